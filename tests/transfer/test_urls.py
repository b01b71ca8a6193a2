"""The old bucket's URLs rewritten in JSON values and in streamed documents, however
the stream is cut."""

from __future__ import annotations

import io

import pytest

from dandi_archive.transfer.urls import UrlRewrite

OLD = ("http://archive.example.org/dandi-dandisets/", "http://archive.example.org/bucket/")
NEW = "https://bucket.s3.amazonaws.com/"
rewrite = UrlRewrite(OLD, NEW)


def test_values_are_rewritten_only_where_a_url_starts():
    value = {
        "contentUrl": [
            "http://archive.example.org/api/assets/1/download/",
            OLD[0] + "blobs/abc/def/abcdef",
        ],
        "manifestLocation": [OLD[1] + "dandisets/000001/draft/assets.yaml"],
        "description": f"see {OLD[0]}blobs/x",  # prose: left as written
        "size": 3,
        "missing": None,
    }
    assert rewrite.value(value) == {
        "contentUrl": [
            "http://archive.example.org/api/assets/1/download/",
            NEW + "blobs/abc/def/abcdef",
        ],
        "manifestLocation": [NEW + "dandisets/000001/draft/assets.yaml"],
        "description": f"see {OLD[0]}blobs/x",
        "size": 3,
        "missing": None,
    }


DOCUMENT = (
    f'[{{"contentUrl": ["{OLD[0]}blobs/a", "{OLD[1]}blobs/b"]}},\n'
    f'  {{"x": "http://archive.example.org/dandi-dandisets"}}, "{OLD[0]}zarr/1/"]'
).encode()
EXPECTED = (
    f'[{{"contentUrl": ["{NEW}blobs/a", "{NEW}blobs/b"]}},\n'
    f'  {{"x": "http://archive.example.org/dandi-dandisets"}}, "{NEW}zarr/1/"]'
).encode()


@pytest.mark.parametrize("size", [1, 2, 7, 30, 44, 45, 1000])
def test_a_stream_is_rewritten_whatever_its_chunks(size: int):
    chunks = [DOCUMENT[i : i + size] for i in range(0, len(DOCUMENT), size)]
    out = io.BytesIO()
    rewrite.stream(chunks, out)
    assert out.getvalue() == EXPECTED


def test_nothing_to_rewrite_copies_the_bytes():
    out = io.BytesIO()
    UrlRewrite([NEW], NEW).stream([b"abc", NEW.encode()], out)
    assert out.getvalue() == b"abc" + NEW.encode()
