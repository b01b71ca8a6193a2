"""Fixity: stored bytes are re-hashed on a cycle; altered or missing blobs are found,
reported to admins, and no longer served."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from dandi_archive.integrity import fixity


def test_altered_and_missing_blobs_are_detected(api, caplog):
    key = api.make_user()
    admin = api.make_user("admin@example.org", admin=True)
    dandiset = api.create_dandiset(key)
    good = api.add_asset(key, dandiset, "good.txt", b"intact bytes")
    bad = api.add_asset(key, dandiset, "bad.txt", b"soon altered")
    api.add_asset(key, dandiset, "gone.txt", b"soon deleted")
    api.wait_for_jobs()

    assert fixity.run_batch(api.archive) == 3
    report = api.get("/api/admin/fixity/", admin).json()
    assert (report["blobs"], report["checked_this_cycle"], report["failures"]) == (3, 3, [])
    assert fixity.run_batch(api.archive) == 0  # nothing due again within the cycle

    store = api.archive.store
    altered, deleted = api.blob_key(b"soon altered"), api.blob_key(b"soon deleted")
    store.put_bytes(altered, b"SOON ALTERED", "application/octet-stream")
    store.delete(deleted)
    next_cycle = datetime.now(UTC) + timedelta(days=31)
    with caplog.at_level(logging.ERROR, logger="dandi_archive.integrity.fixity"):
        assert fixity.run_batch(api.archive, now=next_cycle) == 3
    assert "fixity check failed" in caplog.text

    report = api.get("/api/admin/fixity/", admin).json()
    problems = {f["key"]: f for f in report["failures"]}
    assert set(problems) == {altered, deleted}
    assert "SHA-256" in problems[altered]["problem"]
    assert "missing" in problems[deleted]["problem"]
    assert problems[altered]["assets"] == [
        {"dandiset": dandiset, "version": "draft", "path": "bad.txt"}
    ]

    # Never served as good: the damaged file is refused, the intact one still served.
    refused = api.get(f"/api/assets/{bad['asset_id']}/download/", follow_redirects=False)
    assert refused.status_code == 409
    assert "integrity" in refused.json()["detail"]
    assert api.download(f"/api/assets/{good['asset_id']}/download/").content == b"intact bytes"


def test_fixity_report_is_for_admins_only(api):
    key = api.make_user()
    assert api.get("/api/admin/fixity/").status_code == 401
    assert api.get("/api/admin/fixity/", key).status_code == 403
