"""A small client for tests: accounts, Dandisets and the whole upload dance."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from dandischema.digests.dandietag import PartGenerator
from fastapi.testclient import TestClient

from dandi_archive.accounts import users
from dandi_archive.db.models import UserStatus
from dandi_archive.instance import Archive

BASE = "http://testserver"
# Console scripts (dandi, dandi-archive) of the environment running the tests.
BIN = Path(sys.executable).parent


def run_dandi(url: str, key: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real dandi client against the archive at ``url`` with API key ``key``."""
    host = url.removeprefix("http://")
    env = {**os.environ, "DANDI_NO_ET": "1", f"{host}_API_KEY": key, "DANDI_CACHE": "ignore"}
    return subprocess.run(
        [str(BIN / "dandi"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


DANDISET_METADATA: dict[str, Any] = {
    "description": "A test Dandiset",
    "license": ["spdx:CC0-1.0"],
    "contributor": [
        {
            "schemaKey": "Person",
            "name": "Doe, Jane",
            "email": "jane@example.org",
            "roleName": ["dcite:Author", "dcite:ContactPerson"],
        }
    ],
}


def dandi_etag(data: bytes) -> str:
    parts = PartGenerator.for_file_size(len(data))
    md5s = b"".join(
        hashlib.md5(data[p.offset : p.offset + p.size]).digest()
        for p in (parts[n] for n in range(1, len(parts) + 1))
    )
    return f"{hashlib.md5(md5s).hexdigest()}-{len(parts)}"


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def zarr_checksum_of(files: dict[str, bytes]) -> str:
    """The checksum dandi clients compute, from zarr_checksum's own tree."""
    from pathlib import Path

    from zarr_checksum.tree import ZarrChecksumTree

    tree = ZarrChecksumTree()
    for path, data in files.items():
        tree.add_leaf(Path(path), len(data), hashlib.md5(data).hexdigest())
    return str(tree.process())


@dataclass
class ApiClient:
    client: TestClient
    archive: Archive
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    # -- accounts ------------------------------------------------------------------

    def make_user(
        self,
        email: str = "owner@example.org",
        *,
        admin: bool = False,
        status: UserStatus = UserStatus.APPROVED,
        name: str = "Jane Doe",
    ) -> str:
        """Create an account and return its API key."""
        with self.archive.db.session(write=True) as session:
            user = users.create_user(session, email, name=name, admin=admin, status=status)
            return users.get_or_create_api_key(session, user)

    # -- plain requests ------------------------------------------------------------

    def request(
        self, method: str, url: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"token {token}"
        if url.startswith("/"):
            url = BASE + url
        if url.startswith(BASE):
            return self.client.request(method, url, headers=headers, **kwargs)
        return self.http.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, token, **kwargs)

    def post(self, url: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, token, **kwargs)

    def put(self, url: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, token, **kwargs)

    def delete(self, url: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, token, **kwargs)

    # -- domain shortcuts ----------------------------------------------------------

    def create_dandiset(
        self, token: str, name: str = "Test Dandiset", metadata: dict | None = None, **params: Any
    ) -> str:
        r = self.post(
            "/api/dandisets/",
            token,
            json={"name": name, "metadata": metadata or DANDISET_METADATA},
            params=params,
        )
        assert r.status_code == 200, r.text
        return r.json()["identifier"]

    def upload(self, token: str, dandiset_id: str, data: bytes) -> str:
        """Upload bytes the way the dandi client does; return the blob id."""
        etag = dandi_etag(data)
        r = self.post(
            "/api/uploads/initialize/",
            token,
            json={
                "contentSize": len(data),
                "digest": {"algorithm": "dandi:dandi-etag", "value": etag},
                "dandiset": dandiset_id,
            },
        )
        if r.status_code == 409:
            return r.headers["Location"]
        assert r.status_code == 200, r.text
        init = r.json()
        done = []
        offset = 0
        for part in init["parts"]:
            chunk = data[offset : offset + part["size"]]
            offset += part["size"]
            put = self.put(part["upload_url"], content=chunk)
            assert put.status_code == 200, put.text
            done.append(
                {
                    "part_number": part["part_number"],
                    "size": part["size"],
                    "etag": put.headers["ETag"].strip('"'),
                }
            )
        r = self.post(f"/api/uploads/{init['upload_id']}/complete/", token, json={"parts": done})
        assert r.status_code == 200, r.text
        completion = r.json()
        r = self.post(completion["complete_url"], content=completion["body"])
        assert r.status_code == 200, r.text
        assert etag in r.text
        r = self.post(f"/api/uploads/{init['upload_id']}/validate/", token)
        assert r.status_code == 200, r.text
        return r.json()["blob_id"]

    def add_asset(
        self, token: str, dandiset_id: str, path: str, data: bytes, metadata: dict | None = None
    ) -> dict:
        blob_id = self.upload(token, dandiset_id, data)
        r = self.post(
            f"/api/dandisets/{dandiset_id}/versions/draft/assets/",
            token,
            json={"metadata": {"path": path, **(metadata or {})}, "blob_id": blob_id},
        )
        assert r.status_code == 200, r.text
        return r.json()

    def blob_key(self, data: bytes) -> str:
        """Where the blob holding ``data`` is stored (its upload's key, not a content key)."""
        from sqlalchemy import select

        from dandi_archive.db.models import AssetBlob

        with self.archive.db.session() as session:
            key = session.scalar(select(AssetBlob.key).where(AssetBlob.etag == dandi_etag(data)))
        assert key is not None, "no blob holds these bytes"
        return key

    def download(self, url: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        """Follow the download redirect, which may lead to another server (S3)."""
        r = self.get(url, token, follow_redirects=False)
        assert r.status_code == 302, r.text
        return self.get(r.headers["Location"], **kwargs)

    # -- Zarr --------------------------------------------------------------------

    def create_zarr(self, token: str, dandiset_id: str, name: str = "sample.zarr") -> str:
        r = self.post("/api/zarr/", token, json={"name": name, "dandiset": dandiset_id})
        assert r.status_code == 200, r.text
        return r.json()["zarr_id"]

    def put_zarr_files(self, token: str, zarr_id: str, files: dict[str, bytes]) -> None:
        """Ask for upload URLs and PUT each file with its Content-MD5, as dandi does."""
        items = list(files.items())
        r = self.post(
            f"/api/zarr/{zarr_id}/files/",
            token,
            json=[{"path": p, "base64md5": md5_base64(d)} for p, d in items],
        )
        assert r.status_code == 200, r.text
        for url, (_, data) in zip(r.json(), items, strict=True):
            headers = {"Content-MD5": md5_base64(data)}
            if "x-amz-tagging" in url:  # signed in for embargoed Dandisets, as dandi does
                headers["x-amz-tagging"] = "embargoed=true"
            put = self.put(url, content=data, headers=headers)
            assert put.status_code == 200, put.text

    def finalize_zarr(self, token: str, zarr_id: str) -> dict:
        r = self.post(f"/api/zarr/{zarr_id}/finalize/", token)
        assert r.status_code == 204, r.text
        self.wait_for_jobs()
        return self.get(f"/api/zarr/{zarr_id}/", token).json()

    def zarr_files(self, zarr_id: str, token: str | None = None, **params: Any) -> list[dict]:
        """Every entry of the Zarr's listing, following the ``next`` cursor."""
        url: str | None = f"/api/zarr/{zarr_id}/files"
        entries: list[dict] = []
        while url:
            r = self.get(url, token, params=params if url.endswith("files") else None)
            assert r.status_code == 200, r.text
            entries += r.json()["results"]
            url = r.json()["next"]
        return entries

    def make_bucket_public(self) -> None:
        """On S3, a public-read bucket policy (as DANDI's bucket has); the folder store
        serves open objects anyway."""
        bucket = self.archive.settings.s3_bucket
        if not bucket:
            return
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
        self.archive.store.client.put_bucket_policy(  # type: ignore[attr-defined]
            Bucket=bucket, Policy=json.dumps(policy)
        )

    def wait_for_jobs(self) -> None:
        assert self.archive.jobs.wait_idle(60), "background jobs did not finish"  # type: ignore[attr-defined]
        self.archive.downloads.flush()  # what a process writes every few seconds


# -- shared steps of several test modules -------------------------------------------


def valid_dandiset(api, key, files=None):
    dandiset = api.create_dandiset(key)
    for path, data in (files or {"sub-1/a.txt": b"alpha", "sub-2/b.txt": b"beta"}).items():
        api.add_asset(
            key, dandiset, path, data, {"schemaKey": "Asset", "encodingFormat": "text/plain"}
        )
    api.wait_for_jobs()
    info = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    assert info["status"] == "Valid" and not info["asset_validation_errors"], info
    return dandiset


def publish(api, key, dandiset, **body):
    r = api.post(f"/api/dandisets/{dandiset}/versions/draft/publish/", key, json=body or None)
    assert r.status_code == 202, r.text
    api.wait_for_jobs()
    versions = api.get(f"/api/dandisets/{dandiset}/versions/", params={"order": "-created"}).json()
    return versions["results"][0]["version"]


def settings_env(settings) -> dict[str, str]:
    env = {"DANDI_ARCHIVE_DATA_DIR": str(settings.data_dir)}
    for name in (
        "database_url",
        "s3_bucket",
        "s3_endpoint_url",
        "s3_access_key_id",
        "s3_secret_access_key",
        "base_url",
    ):
        if getattr(settings, name):
            env[f"DANDI_ARCHIVE_{name.upper()}"] = getattr(settings, name)
    return env
