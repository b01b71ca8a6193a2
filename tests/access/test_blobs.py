"""Deduplication never hands embargoed content to someone who cannot read it.

The pivot this guards against: learn an embargoed blob's id from its digest (anyone
can compute the etag of bytes they guess or once saw), add an asset with it to one's
own open Dandiset, and download the embargoed bytes from there.
"""

from __future__ import annotations

import hashlib

from ..helpers import dandi_etag

SECRET = b"unpublished recording " * 64


def digest_lookup(api, token, algorithm="dandi:dandi-etag", value=None):
    value = value or dandi_etag(SECRET)
    return api.post("/api/blobs/digest/", token, json={"algorithm": algorithm, "value": value})


def initialize(api, token, dandiset, data=SECRET):
    body = {
        "contentSize": len(data),
        "digest": {"algorithm": "dandi:dandi-etag", "value": dandi_etag(data)},
        "dandiset": dandiset,
    }
    return api.post("/api/uploads/initialize/", token, json=body)


def embargoed_secret(api):
    """An owner with the secret in an embargoed Dandiset; returns (owner, dandiset, blob)."""
    owner = api.make_user("owner@example.org")
    private = api.create_dandiset(owner, embargo="true")
    asset = api.add_asset(owner, private, "secret.bin", SECRET)
    api.wait_for_jobs()
    return owner, private, asset["blob"]


def test_digest_lookup_answers_only_for_blobs_the_caller_may_read(api):
    owner, _, blob_id = embargoed_secret(api)
    stranger = api.make_user("stranger@example.org")
    admin = api.make_user("admin@example.org", admin=True)
    sha256 = hashlib.sha256(SECRET).hexdigest()
    for token in (None, stranger):
        assert digest_lookup(api, token).status_code == 404
        assert digest_lookup(api, token, "dandi:sha2-256", sha256).status_code == 404
    for token in (owner, admin):
        assert digest_lookup(api, token).json()["blob_id"] == blob_id
        assert digest_lookup(api, token, "dandi:sha2-256", sha256).json()["blob_id"] == blob_id


def test_embargoed_blob_id_cannot_be_used_in_another_dandiset(api):
    _, _, blob_id = embargoed_secret(api)
    stranger = api.make_user("stranger@example.org")
    mine = api.create_dandiset(stranger, name="Mine")
    r = api.post(
        f"/api/dandisets/{mine}/versions/draft/assets/",
        stranger,
        json={"metadata": {"path": "stolen.bin"}, "blob_id": blob_id},
    )
    assert r.status_code == 404
    assert api.get(f"/api/dandisets/{mine}/versions/draft/assets/").json()["count"] == 0


def test_upload_of_embargoed_content_needs_its_bytes(api):
    """No 409 naming the hidden blob: the stranger must send every byte, and only then
    shares the stored copy (one object in the bucket)."""
    _, _, blob_id = embargoed_secret(api)
    stranger = api.make_user("stranger@example.org")
    mine = api.create_dandiset(stranger, name="Mine")
    r = initialize(api, stranger, mine)
    assert r.status_code == 200, r.text
    assert blob_id not in r.text
    api.delete(f"/api/dandisets/{mine}/uploads/", stranger)

    # Completing nothing proves nothing.
    r = initialize(api, stranger, mine)
    upload_id = r.json()["upload_id"]
    assert api.post(f"/api/uploads/{upload_id}/validate/", stranger).status_code == 400
    api.delete(f"/api/dandisets/{mine}/uploads/", stranger)

    # Uploading the bytes does: the stored copy is shared.
    asset = api.add_asset(stranger, mine, "mine.bin", SECRET)
    assert asset["blob"] == blob_id
    api.wait_for_jobs()
    assert [o.key for o in api.archive.store.list_keys("blobs/")] == [
        f"blobs/{blob_id[:3]}/{blob_id[3:6]}/{blob_id}"
    ]
    assert api.download(f"/api/assets/{asset['asset_id']}/download/").content == SECRET


def test_wrong_bytes_for_a_known_etag_change_nothing(api):
    """A second upload of announced content that sends other bytes is discarded and
    never touches the stored copy (every upload writes a key of its own)."""
    owner, private, blob_id = embargoed_secret(api)
    stranger = api.make_user("stranger@example.org")
    mine = api.create_dandiset(stranger, name="Mine")
    init = initialize(api, stranger, mine).json()
    forged = b"X" * len(SECRET)
    put = api.put(init["parts"][0]["upload_url"], content=forged)
    assert put.status_code == 200
    parts = [
        {"part_number": 1, "size": len(SECRET), "etag": put.headers["ETag"].strip('"')},
    ]
    done = api.post(f"/api/uploads/{init['upload_id']}/complete/", stranger, json={"parts": parts})
    api.post(done.json()["complete_url"], content=done.json()["body"])  # S3 accepts; folder not
    r = api.post(f"/api/uploads/{init['upload_id']}/validate/", stranger)
    assert r.status_code == 400
    assert blob_id not in r.text
    assets = api.get(f"/api/dandisets/{private}/versions/draft/assets/", owner).json()
    download = api.download(f"/api/assets/{assets['results'][0]['asset_id']}/download/", owner)
    assert download.content == SECRET


def test_owner_and_admin_still_deduplicate(api):
    owner, _, blob_id = embargoed_secret(api)
    second = api.create_dandiset(owner, name="Second", embargo="true")
    r = initialize(api, owner, second)
    assert r.status_code == 409
    assert r.headers["Location"] == blob_id


def test_rejected_owner_loses_the_digest_lookup(api):
    from dandi_archive.accounts import users
    from dandi_archive.db.models import UserStatus

    owner, _, _ = embargoed_secret(api)
    with api.archive.db.session(write=True) as session:
        users.get_user_by_email(session, "owner@example.org").status = UserStatus.REJECTED
    assert digest_lookup(api, owner).status_code in (401, 403, 404)
