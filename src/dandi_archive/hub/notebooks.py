""" "Open in hub": ``<hub>/hub/user-redirect/dandiset/<id>`` lands in a notebook for it.

JupyterHub hands every ``user-redirect`` path to ``open_dandiset`` first. For
``dandiset/<six digits>`` it starts the person's server if it is not running (and
comes back here), writes ``dandisets/<id>.ipynb`` into it unless one is there already
(their edits are kept), and sends them to it in JupyterLab. The notebook is written
through the server's own contents API, so this works for every spawner (local
processes, Docker, Kubernetes) alike.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from jupyterhub.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.httputil import url_concat
from tornado.log import app_log

DANDISET_PATH = re.compile(r"dandiset/(\d{6})/?")
FOLDER = "dandisets"
TOKEN_SECONDS = 120


def dandiset_notebook(identifier: str) -> dict[str, Any]:
    """A notebook (nbformat 4) with the Dandiset opened and its files listed."""
    cells = [
        _markdown(
            "about",
            f"# DANDI:{identifier}\n\n"
            "`DandiAPIClient()` talks to this archive as you: this server was started "
            "with your API key (`DANDI_API_KEY`), so embargoed Dandisets you may read "
            "open too. Stream a file with `asset.get_content_url()`, `remfile` and "
            "`pynwb`, or a Zarr with `zarr.open(url)`.",
        ),
        _code(
            "open",
            "from dandi.dandiapi import DandiAPIClient\n\n"
            "client = DandiAPIClient()\n"
            "client.dandi_authenticate()\n"
            f'dandiset = client.get_dandiset("{identifier}")\n'
            'print(dandiset.get_raw_metadata()["name"])',
        ),
        _code("assets", "for asset in dandiset.get_assets():\n    print(asset.path, asset.size)"),
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _markdown(cell_id: str, text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


def _code(cell_id: str, text: str) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": {},
        "source": text,
        "execution_count": None,
        "outputs": [],
    }


def notebook_path(identifier: str) -> str:
    return f"{FOLDER}/{identifier}.ipynb"


async def open_dandiset(path: str, request: Any, user: Any, base_url: str) -> str | None:
    """JupyterHub's ``user_redirect_hook``: a URL for ``dandiset/<id>``, else None (the
    usual ``user-redirect`` to the same path on the person's server)."""
    match = DANDISET_PATH.fullmatch(path)
    if match is None:
        return None
    spawner = user.spawner
    if not spawner.ready:
        # Start the server; the spawn page comes back here once it is up.
        back = url_path_join(base_url, "hub", "user-redirect", path)
        return url_concat(
            url_path_join(base_url, "hub", "spawn", user.escaped_name), {"next": back}
        )
    identifier = match[1]
    try:
        await write_notebook(user, spawner.server.url, identifier)
    except (HTTPClientError, OSError) as exc:
        # The server would not take it (full disk, an image without the contents API):
        # the person still lands on their server, and the hub's log says why.
        app_log.warning("No notebook for %s written on %s's server: %s", identifier, user.name, exc)
        return url_path_join(user.url, "lab")
    return url_path_join(user.url, "lab", "tree", FOLDER, f"{identifier}.ipynb")


async def write_notebook(user: Any, server_url: str, identifier: str) -> None:
    """``dandisets/<id>.ipynb`` in the server, unless it exists, with a token that may
    reach that server only and is deleted at once (it expires anyway)."""
    token = user.new_api_token(
        note="Open in hub",
        expires_in=TOKEN_SECONDS,
        scopes=[f"access:servers!server={user.name}/"],
    )
    try:
        contents = server_url.rstrip("/") + "/api/contents/"
        await _contents(contents, FOLDER, token, {"type": "directory"})
        await _contents(
            contents,
            notebook_path(identifier),
            token,
            {"type": "notebook", "format": "json", "content": dandiset_notebook(identifier)},
        )
    finally:
        _delete_token(user, token)


async def _contents(contents_url: str, path: str, token: str, model: dict[str, Any]) -> None:
    """PUT ``model`` at ``path`` unless something is there already."""
    http = AsyncHTTPClient()
    url = contents_url + quote(path)
    headers = {"Authorization": f"token {token}"}
    try:
        await http.fetch(url + "?content=0", headers=headers)
        return  # there already: never overwrite what the person made of it
    except HTTPClientError as exc:
        if exc.code != 404:
            raise
    await http.fetch(
        url,
        method="PUT",
        headers={**headers, "Content-Type": "application/json"},
        body=json.dumps(model),
    )


def _delete_token(user: Any, token: str) -> None:
    from jupyterhub import orm

    found = orm.APIToken.find(user.db, token)
    if found is not None:
        user.db.delete(found)
        user.db.commit()
