"""Direct bucket reads on the folder store (``GET/HEAD /{bucket name}/{key}``, and the
older ``/bucket/{key}``): one rule, on the key exactly as received, decides what is
served.

Embargoed objects and blobs that failed fixity must not come out under any spelling of
their key; open objects still do, and signed URLs still work. Requests are sent to the
ASGI app with the raw path a client such as ``curl --path-as-is`` sends (httpx would
remove ``.``/``..`` segments before sending), decoded as uvicorn decodes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import anyio
import pytest

from dandi_archive.access.bucket import anonymously_readable, read_refusal
from dandi_archive.access.listing import list_objects
from dandi_archive.integrity import fixity

from ..helpers import dandi_etag

# These routes exist only where the archive is the bucket (the folder store).
pytestmark = pytest.mark.parametrize("backend", ["embedded"])

EMBARGOED_BLOB = b"embargoed blob bytes 4711"
EMBARGOED_ZGROUP = b'{"zarr_format": 2, "secret": "embargoed zarr 4711"}'
DAMAGED = b"damaged blob bytes 4711"
ALTERED = b"DAMAGED blob bytes 4711"
OPEN_BLOB = b"open blob bytes"
OPEN_ZGROUP = b'{"zarr_format": 2}'
SECRETS = (b"embargoed blob bytes", b"embargoed zarr", b"damaged blob", b"DAMAGED blob")


@dataclass
class Raw:
    status: int
    body: bytes


def raw_request(api, method: str, raw_path: str) -> Raw:
    """One request to the app with exactly this path, as uvicorn would hand it over."""
    raw = raw_path.encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw,
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    status = 0
    body = bytearray()
    requested = False

    async def call() -> None:
        done = anyio.Event()

        async def receive() -> dict:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # the client stays connected until the response is sent
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        await api.client.app(scope, receive, send)

    api.client.portal.call(call)
    return Raw(status, bytes(body))


@pytest.fixture
def bucket(api):
    """An embargoed blob, an embargoed Zarr object, a blob that failed fixity, and open
    counterparts; returns the canonical keys."""
    owner = api.make_user()
    secret = api.create_dandiset(owner, name="Secret", embargo="true")
    public = api.create_dandiset(owner, name="Public")
    api.add_asset(owner, secret, "secret.bin", EMBARGOED_BLOB)
    api.add_asset(owner, public, "open.bin", OPEN_BLOB)
    api.add_asset(owner, public, "damaged.bin", DAMAGED)
    secret_zarr = api.create_zarr(owner, secret, "secret.zarr")
    api.put_zarr_files(owner, secret_zarr, {".zgroup": EMBARGOED_ZGROUP})
    api.finalize_zarr(owner, secret_zarr)
    open_zarr = api.create_zarr(owner, public, "open.zarr")
    api.put_zarr_files(owner, open_zarr, {".zgroup": OPEN_ZGROUP})
    api.finalize_zarr(owner, open_zarr)
    api.wait_for_jobs()
    # The real fixity check finds the altered blob.
    store = api.archive.store
    store.put_bytes(api.blob_key(DAMAGED), ALTERED, "application/octet-stream")
    fixity.run_batch(api.archive, now=datetime.now(UTC) + timedelta(days=31))
    return {
        "embargoed blob": api.blob_key(EMBARGOED_BLOB),
        "embargoed zarr": f"zarr/{secret_zarr}/.zgroup",
        "fixity-failed blob": api.blob_key(DAMAGED),
        "open blob": api.blob_key(OPEN_BLOB),
        "open zarr": f"zarr/{open_zarr}/.zgroup",
    }


def _dot_dot_inside(key: str) -> str:
    first, second, rest = key.split("/", 2)
    return f"{first}/{second}/../{second}/{rest}"


# Every way to spell a key that the folder store (or a path resolver) might take to
# name the same file: each must be refused or be judged as the object it names.
SPELLINGS = {
    "double slash after prefix": lambda k: k.replace("/", "//", 1),
    "double slash inside": lambda k: k.replace("/", "//", 2).replace("//", "/", 1),
    "leading slash": lambda k: "/" + k,
    "dot segment first": lambda k: "./" + k,
    "dot segment inside": lambda k: k.replace("/", "/./", 1),
    "dot-dot through another folder": lambda k: "x/../" + k,
    "dot-dot inside": _dot_dot_inside,
    "dot-dot through zarr": lambda k: "zarr/../" + k,
    "percent-encoded dot-dot": lambda k: "zarr/%2e%2e/" + k,
    "upper-case percent-encoded dot-dot": lambda k: "zarr/%2E%2E/" + k,
    "percent-encoded dot": lambda k: "%2e/" + k,
    "double-encoded dot-dot": lambda k: "zarr/%252e%252e/" + k,
    "percent-encoded slashes": lambda k: k.replace("/", "%2F"),
    "percent-encoded backslashes": lambda k: k.replace("/", "%5C"),
    "backslash dot-dot": lambda k: "zarr%5C..%5C" + k,
    "trailing slash": lambda k: k + "/",
    "trailing dot segment": lambda k: k + "/.",
    "NUL byte": lambda k: k + "%00",
    "NUL byte before a segment": lambda k: k.replace("/", "%00/", 1),
    "control character": lambda k: k.replace("/", "/%0a", 1),
    "upper-case key": lambda k: k.upper(),
    "zarr slash slash id": lambda k: k.replace("zarr/", "zarr//", 1),
    "invalid UTF-8": lambda k: k + "%ff",
}
PROTECTED = ("embargoed blob", "embargoed zarr", "fixity-failed blob")


@pytest.fixture(params=["/dandi-dandisets/", "/bucket/"])
def prefix(request) -> str:
    """The bucket's S3 path-style address, and the older one: the same rule for both."""
    return request.param


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_no_spelling_of_a_key_serves_protected_bytes(api, bucket, prefix, spelling):
    for name in PROTECTED:
        path = prefix + spelling(bucket[name])
        for method in ("GET", "HEAD"):
            r = raw_request(api, method, path)
            # 400: refused before any route (control characters, NUL in the address).
            assert r.status in (400, 403, 404), (name, method, path, r.status, r.body[:200])
            assert not any(secret in r.body for secret in SECRETS), (name, path)


def test_open_objects_are_still_served_and_protected_ones_refused(api, bucket, prefix):
    assert raw_request(api, "GET", prefix + bucket["open blob"]).body == OPEN_BLOB
    assert raw_request(api, "GET", prefix + bucket["open zarr"]).body == OPEN_ZGROUP
    assert raw_request(api, "HEAD", prefix + bucket["open zarr"]).status == 200
    for name in PROTECTED:
        r = raw_request(api, "GET", prefix + bucket[name])
        assert r.status == 403, name
        assert b"<Code>AccessDenied</Code>" in r.body
    fixity_failed = raw_request(api, "GET", prefix + bucket["fixity-failed blob"])
    assert b"integrity" in fixity_failed.body


def test_signed_urls_serve_embargoed_objects_but_not_failed_blobs(api, bucket, prefix):
    store = api.archive.store
    for name, data in (("embargoed blob", EMBARGOED_BLOB), ("embargoed zarr", EMBARGOED_ZGROUP)):
        r = api.get(store.presign_download(bucket[name], 60))
        assert (r.status_code, r.content) == (200, data), name
        head = api.request("HEAD", store.presign_download(bucket[name], 60, method="HEAD"))
        assert head.status_code == 200
    # A URL signed before the fixity check failed no longer serves the damaged bytes.
    r = api.get(store.presign_download(bucket["fixity-failed blob"], 60))
    assert r.status_code == 403
    assert ALTERED not in r.content
    # A signature is for one key: it does not open another spelling of it.
    url = store.presign_download(bucket["embargoed blob"], 60)
    token = url.partition("?")[2]
    r = raw_request(api, "GET", prefix + "./" + bucket["embargoed blob"] + "?" + token)
    assert EMBARGOED_BLOB not in r.body


def test_a_symlink_in_the_bucket_is_not_followed(api, bucket, prefix):
    """A link under an open Zarr to an embargoed blob's file (put there by anyone with
    access to the folder) is not served: the file must be the key itself."""
    store = api.archive.store
    open_zarr_folder = store.root / bucket["open zarr"].rpartition("/")[0]
    (open_zarr_folder / "link").symlink_to(store.root / bucket["embargoed blob"])
    (store.root / "zarr" / "alias").symlink_to(open_zarr_folder)
    link = bucket["open zarr"].rpartition("/")[0] + "/link"
    for path in (link, "zarr/alias/.zgroup"):
        r = raw_request(api, "GET", prefix + path)
        assert r.status == 404, path
        assert EMBARGOED_BLOB not in r.body


def test_unknown_prefixes_and_unowned_objects_are_not_served(api, bucket, prefix, caplog):
    store = api.archive.store
    store.put_bytes("stray/file.txt", b"not written by the archive", "text/plain")
    store.put_bytes("zarr/not-a-uuid/x", b"x", "text/plain")
    store.put_bytes("dandisets/999999/draft/dandiset.jsonld", b"{}", "application/json")
    with caplog.at_level(logging.ERROR):
        for key in (
            "stray/file.txt",
            "zarr/not-a-uuid/x",
            "dandisets/999999/draft/dandiset.jsonld",
            "blobs",
            *([""] if prefix == "/bucket/" else []),
        ):
            assert raw_request(api, "GET", prefix + key).status == 404, key
    if prefix != "/bucket/":
        # The named bucket's root is a ListObjects request: it answers, listing none of them.
        listing = raw_request(api, "GET", prefix)
        assert listing.status == 200
        for stray in (b"stray/", b"not-a-uuid", b"999999"):
            assert stray not in listing.body


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&lol9;</ETag></Part>
</CompleteMultipartUpload>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE c [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&xxe;</ETag></Part>
</CompleteMultipartUpload>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion laughs", "XXE"])
def test_hostile_complete_multipart_xml_is_a_400(api, body):
    """The CompleteMultipartUpload body comes from whoever holds the URL: entity
    definitions are refused before any expansion, and the upload stays completable."""
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    data = b"bytes behind hostile XML"
    init = api.post(
        "/api/uploads/initialize/",
        key,
        json={
            "contentSize": len(data),
            "digest": {"algorithm": "dandi:dandi-etag", "value": dandi_etag(data)},
            "dandiset": dandiset,
        },
    ).json()
    put = api.put(init["parts"][0]["upload_url"], content=data)
    done = [{"part_number": 1, "size": len(data), "etag": put.headers["ETag"].strip('"')}]
    completion = api.post(
        f"/api/uploads/{init['upload_id']}/complete/", key, json={"parts": done}
    ).json()
    r = api.post(completion["complete_url"], content=body)
    assert r.status_code == 400
    assert "<Code>MalformedXML</Code>" in r.text
    assert "may not declare a DTD" in r.text  # refused as such, not by a parser limit
    assert "root:" not in r.text
    r = api.post(completion["complete_url"], content=completion["body"])
    assert r.status_code == 200, r.text
    r = api.post(f"/api/uploads/{init['upload_id']}/validate/", key)
    assert r.status_code == 200, r.text


def test_s3_copies_are_tagged_as_the_folder_store_refuses(api, bucket):
    """``dandi-archive transfer`` tags what the folder store keeps from anonymous readers
    (embargoed objects, and what the archive does not know), as S3 uploads are tagged;
    a blob that failed fixity keeps its Dandiset's mark."""
    from sqlalchemy import select

    from dandi_archive.access.bucket import tagged_embargoed
    from dandi_archive.db.models import Upload

    owner = api.make_user("uploader@example.org")
    secret = api.create_dandiset(owner, name="Pending secret", embargo="true")
    public = api.create_dandiset(owner, name="Pending open")
    for dandiset, data in ((secret, b"pending secret"), (public, b"pending open")):
        r = api.post(
            "/api/uploads/initialize/",
            owner,
            json={
                "contentSize": len(data),
                "digest": {"algorithm": "dandi:dandi-etag", "value": dandi_etag(data)},
                "dandiset": dandiset,
            },
        )
        assert r.status_code == 200, r.text
    with api.archive.db.session() as session:
        pending = {
            int(d): key for d, key in session.execute(select(Upload.dandiset_id, Upload.key))
        }
        tagged = {name: tagged_embargoed(session, key) for name, key in bucket.items()}
        tagged["pending embargoed upload"] = tagged_embargoed(session, pending[int(secret)])
        tagged["pending open upload"] = tagged_embargoed(session, pending[int(public)])
        tagged["unowned"] = tagged_embargoed(session, "blobs/abc/def/abcdef-not-ours")
        tagged["unknown prefix"] = tagged_embargoed(session, "elsewhere/file")
    assert tagged == {
        "embargoed blob": True,
        "embargoed zarr": True,
        "fixity-failed blob": False,
        "open blob": False,
        "open zarr": False,
        "pending embargoed upload": True,
        "pending open upload": False,
        "unowned": True,
        "unknown prefix": True,
    }


def test_a_listing_names_exactly_what_anyone_reads(api, bucket):
    """The batched rule of listings agrees, key by key, with the rule of reads; the
    listing holds the open objects and none of the protected ones, nor any spelling."""
    store = api.archive.store
    keys = [info.key for info in store.list_keys("")]
    spelled = [spell(key) for key in bucket.values() for spell in SPELLINGS.values()]
    with api.archive.db.session() as session:
        batched = anonymously_readable(session, keys + spelled)
        one_by_one = [read_refusal(session, k, signed=False) is None for k in keys + spelled]
        assert batched == one_by_one
        listed = [info.key for info in list_objects(store, session).contents]
    assert bucket["open blob"] in listed and bucket["open zarr"] in listed
    protected = ("embargoed blob", "embargoed zarr", "fixity-failed blob")
    assert not {bucket[name] for name in protected} & set(listed)
    assert listed == [k for k, ok in zip(keys, batched[: len(keys)], strict=True) if ok]
