""" "Open with": the viewers the field uses to look inside a file without downloading it
(Neurosift and NWB Explorer for NWB, Neuroglancer and Vizarr for OME-Zarr), linked with
the file's public address in the bucket.

They run in the visitor's browser and read the bucket directly, so they are offered for
files of open Dandisets only (an embargoed file's address is refused to them), and not
at all when ``DANDI_ARCHIVE_EXTERNAL_VIEWERS`` is off (an archive on a closed network).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class Viewer:
    name: str
    url: str
    what: str


def is_nwb(path: str, encoding_format: str | None) -> bool:
    return path.lower().endswith(".nwb") or encoding_format == "application/x-nwb"


def is_ome_zarr(path: str) -> bool:
    return path.lower().rstrip("/").endswith((".ome.zarr", ".ngff"))


def nwb_viewers(url: str, dandiset: str, version: str) -> list[Viewer]:
    query = urlencode({"url": url, "dandisetId": dandiset, "dandisetVersion": version})
    return [
        Viewer(
            "Neurosift",
            f"https://neurosift.app/nwb?{query}",
            "browse the file's groups, time series, images and tables",
        ),
        Viewer(
            "NWB Explorer",
            f"https://nwbexplorer.opensourcebrain.org/nwbfile={quote(url, safe='')}",
            "plot time series and look through the file's contents",
        ),
    ]


def zarr_viewers(url: str, name: str) -> list[Viewer]:
    url = url.rstrip("/") + "/"
    state = {"layers": [{"type": "image", "source": f"zarr://{url}", "name": name}]}
    compact = json.dumps(state, separators=(",", ":"))
    return [
        Viewer(
            "Neuroglancer",
            "https://neuroglancer-demo.appspot.com/#!" + quote(compact, safe=""),
            "look through the image's planes and resolution levels in 3-D",
        ),
        Viewer(
            "Vizarr",
            "https://hms-dbmi.github.io/vizarr/?" + urlencode({"source": url}),
            "view the image's channels and planes",
        ),
    ]


def viewers_for(
    *,
    path: str,
    encoding_format: str | None,
    public_url: str | None,
    dandiset: str,
    version: str,
) -> list[Viewer]:
    """The viewers for a file of an open Dandiset (``public_url``: its bucket address)."""
    if not public_url:
        return []
    if is_nwb(path, encoding_format):
        return nwb_viewers(public_url, dandiset, version)
    if is_ome_zarr(path):
        return zarr_viewers(public_url, path.rstrip("/").rpartition("/")[2])
    return []
