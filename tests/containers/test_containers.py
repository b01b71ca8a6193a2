"""Container images kept as assets: recognised by content, described without running
them (by ranged reads), shown under "Software" and linked from the Dandiset metadata."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from dandi_archive.containers.facts import SIF_MEDIA_TYPE, TAR_MEDIA_TYPE
from dandi_archive.containers.inspect import inspect_object

from . import images

ASSET = {"schemaKey": "Asset", "encodingFormat": "application/octet-stream"}


def _add(api, key, dandiset, path, data) -> str:
    asset = api.add_asset(key, dandiset, path, data, ASSET)
    api.wait_for_jobs()
    return asset["asset_id"]


def _draft(api, dandiset) -> dict:
    return api.get(f"/api/dandisets/{dandiset}/versions/draft/").json()


def _software_links(metadata: dict) -> list[dict]:
    return [
        r for r in metadata.get("relatedResource") or [] if r.get("url", "").endswith("/download/")
    ]


def test_images_described_shown_and_linked(api, owner, dandiset):
    sif_id = _add(api, owner, dandiset, "code/sorter.sif", images.sif_image())
    docker_id = _add(api, owner, dandiset, "code/sorter-docker.tar", images.docker_archive())
    oci, digests = images.oci_archive()
    oci_id = _add(api, owner, dandiset, "code/sorter-oci.tar", oci)

    sif = api.get(f"/api/assets/{sif_id}/").json()
    assert sif["encodingFormat"] == SIF_MEDIA_TYPE
    image = sif["containerImage"]
    assert image["format"] == "sif" and image["architecture"] == "amd64"
    assert image["imageId"] == str(images.SIF_ID)
    assert image["created"].startswith("2024-05-01T12:00:00")
    assert image["from"] == "python:3.12-slim" and image["bootstrap"] == "docker"
    assert image["labels"]["Author"] == "jane@example.org"
    assert image["labels"]["org.label-schema.schema-version"] == "1.0"
    assert image["runscript"] == 'exec python -m sorter "$@"'

    docker = api.get(f"/api/assets/{docker_id}/").json()
    assert docker["encodingFormat"] == TAR_MEDIA_TYPE
    image = docker["containerImage"]
    assert image["format"] == "docker-archive"
    assert image["imageId"] == digests["config"]  # the same configuration in both tars
    assert image["tags"] == ["example/sorter:1.0"]
    assert image["entrypoint"] == ["/usr/bin/sort-spikes"] and image["cmd"] == ["--help"]
    assert image["os"] == "linux" and image["architecture"] == "amd64"
    assert image["labels"]["org.opencontainers.image.title"] == "spike-sorter"
    assert image["layers"] == 1 and image["layersSize"] == len(images.layer())

    image = api.get(f"/api/assets/{oci_id}/").json()["containerImage"]
    assert image["format"] == "oci-archive"
    assert image["manifestDigest"] == digests["manifest"]
    assert image["imageId"] == digests["config"] and image["tags"] == ["1.0"]

    # All valid, so the draft is publishable, and it links each image as software.
    info = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    assert info["status"] == "Valid", info
    links = _software_links(_draft(api, dandiset))
    api_url = api.archive.settings.api_url
    assert {r["url"] for r in links} == {
        f"{api_url}/assets/{a}/download/" for a in (sif_id, docker_id, oci_id)
    }
    assert all(r["resourceType"] == "dcite:Software" for r in links)
    assert all(r["relation"] == "dcite:HasPart" for r in links)

    page = api.get(f"/dandiset/{dandiset}/draft").text
    assert 'id="software"' in page
    assert f"dandi download {api_url}/assets/{sif_id}/download/" in page
    assert "apptainer run sorter.sif" in page
    assert "docker load -i sorter-docker.tar" in page
    assert "docker run --rm example/sorter:1.0" in page
    assert "python:3.12-slim" in page


def test_links_kept_apart_from_the_owners_resources(api, owner, dandiset):
    mine = {
        "schemaKey": "Resource",
        "name": "Our analysis code",
        "url": "https://example.org/code",
        "resourceType": "dcite:Software",
        "relation": "dcite:IsSupplementedBy",
    }
    meta = _draft(api, dandiset)
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/",
        owner,
        json={"name": meta["name"], "metadata": {**meta, "relatedResource": [mine]}},
    )
    assert r.status_code == 200, r.text
    sif_id = _add(api, owner, dandiset, "sorter.sif", images.sif_image())
    related = _draft(api, dandiset)["relatedResource"]
    assert related[0] == mine and len(related) == 2

    # Saving the metadata as read (what the dandi client and the editor do) adds nothing.
    meta = _draft(api, dandiset)
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/",
        owner,
        json={"name": meta["name"], "metadata": meta},
    )
    assert r.status_code == 200, r.text
    api.wait_for_jobs()
    assert _draft(api, dandiset)["relatedResource"] == related

    r = api.delete(f"/api/dandisets/{dandiset}/versions/draft/assets/{sif_id}/", owner)
    assert r.status_code == 204, r.text
    api.wait_for_jobs()
    assert _draft(api, dandiset)["relatedResource"] == [mine]


def test_a_fake_sif_is_an_asset_with_a_warning(api, owner, dandiset):
    fake = _add(api, owner, dandiset, "tools/fake.sif", b"#!/bin/sh\necho not an image\n")
    not_tar = _add(api, owner, dandiset, "tools/fake.tar", b"just some bytes" * 100)
    plain = _add(api, owner, dandiset, "data/plain.tar", images.tar_of({"a.txt": b"a"}))

    base = f"/api/dandisets/{dandiset}/versions/draft/assets"
    state = api.get(f"{base}/{fake}/validation/").json()
    assert state["status"] == "Valid" and state["validation_errors"] == []
    [warning] = state["validation_warnings"]
    assert "SIF" in warning["message"] and "not one" in warning["message"]
    [warning] = api.get(f"{base}/{not_tar}/validation/").json()["validation_warnings"]
    assert "not a tar archive" in warning["message"]
    assert api.get(f"{base}/{plain}/validation/").json()["validation_warnings"] == []

    meta = api.get(f"/api/assets/{fake}/").json()
    assert meta["encodingFormat"] == "application/octet-stream"
    assert "containerImage" not in meta
    info = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    assert info["status"] == "Valid" and not info["asset_validation_errors"]
    assert _software_links(_draft(api, dandiset)) == []
    page = api.get(f"/dandiset/{dandiset}/draft/files/{fake}").text
    assert 'id="warnings"' in page and "not one" in page
    assert 'id="software"' not in api.get(f"/dandiset/{dandiset}/draft").text


def test_damaged_images_say_why(api, owner, dandiset):
    data, _ = images.oci_archive()
    # Same length, one byte of the manifest changed: its digest no longer matches.
    broken = data.replace(b'"schemaVersion": 2, "mediaType"', b'"schemaVersion": 3, "mediaType"')
    assert broken != data
    asset = _add(api, owner, dandiset, "broken-oci.tar", broken)
    base = f"/api/dandisets/{dandiset}/versions/draft/assets"
    [warning] = api.get(f"{base}/{asset}/validation/").json()["validation_warnings"]
    assert "OCI image layout" in warning["message"] and "digest" in warning["message"]

    truncated = images.sif_image()[:5000]  # the header promises a table past the end
    asset = _add(api, owner, dandiset, "cut.sif", truncated)
    [warning] = api.get(f"{base}/{asset}/validation/").json()["validation_warnings"]
    assert "descriptor table" in warning["message"]


def _stored(api, data: bytes) -> str:
    key = f"tests/{uuid.uuid4()}"
    api.archive.store.put_bytes(key, data, "application/octet-stream")
    return key


def test_reads_only_headers_of_a_large_image(api):
    """A 50 MB layer is skipped over: only member headers and JSON are read."""
    big = images.docker_archive(layer_bytes=images.layer(bytes(50_000_000)))
    key = _stored(api, big)
    store = api.archive.store
    read: list[int] = []
    original = store.read_range

    def counting(k, start, length):
        data = original(k, start, length)
        read.append(len(data))
        return data

    store.read_range = counting  # type: ignore[method-assign]
    try:
        result = inspect_object(store, key, len(big), seconds=30)
    finally:
        del store.read_range
    assert result["content"] == "docker-archive"
    assert result["image"]["layersSize"] > 50_000_000
    assert sum(read) < 100_000 and len(read) <= 5


def test_gives_up_cleanly(api):
    data, _ = images.oci_archive()
    key = _stored(api, data)
    result = inspect_object(api.archive.store, key, len(data), seconds=30, max_bytes=1000)
    assert result["content"] == "tar" and result["problem"].startswith("gave up")
    result = inspect_object(api.archive.store, key, len(data), seconds=1e-9)
    assert result["problem"].startswith("gave up: reading took longer")


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _docker_works(), reason="no running Docker daemon")
def test_a_real_docker_save(api, owner, dandiset, tmp_path):
    build = tmp_path / "image"
    build.mkdir()
    (build / "Dockerfile").write_text('FROM scratch\nLABEL purpose="test"\nCMD ["/x"]\n')
    tag = f"dandi-archive-test:{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "build", "-q", "-t", tag, str(build)], check=True, timeout=300)
    try:
        out = tmp_path / "image.tar"
        subprocess.run(["docker", "save", "-o", str(out), tag], check=True, timeout=300)
        asset = _add(api, owner, dandiset, "image.tar", out.read_bytes())
    finally:
        subprocess.run(["docker", "rmi", tag], capture_output=True, timeout=120)
    image = api.get(f"/api/assets/{asset}/").json()["containerImage"]
    assert image["tags"] == [tag] and image["labels"] == {"purpose": "test"}
    assert image["cmd"] == ["/x"]
