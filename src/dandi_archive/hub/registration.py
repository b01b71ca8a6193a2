"""The hub's OAuth client at the archive: registered on the hub's first start, reused after.

The archive keeps only a hash of a client's secret, so the hub keeps its id and secret
in ``<hub dir>/oauth-client.json`` (mode 0600). A kept client is reused while the
archive still knows it with that secret and the hub's callback URL; otherwise (removed
by an administrator, another hub URL, another database) a new one is registered and the
stale one removed. The client is *trusted*: the hub is the instance's own service, so
people are not asked to agree to it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from dandi_archive.oauth import clients

CLIENT_NAME = "DANDI Hub"
CLIENT_FILE = "oauth-client.json"


@dataclass(frozen=True)
class HubClient:
    client_id: str
    client_secret: str
    redirect_uri: str


def read_kept(path: Path) -> HubClient | None:
    try:
        data = json.loads(path.read_text())
        return HubClient(data["client_id"], data["client_secret"], data["redirect_uri"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none kept yet, or unreadable: register anew


def keep(path: Path, client: HubClient) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name with 0600 from the start, then moved into place.
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(client), handle)
    tmp.replace(path)


def still_valid(session: Session, kept: HubClient, redirect_uri: str) -> bool:
    found = clients.find_client(session, kept.client_id)
    return (
        found is not None
        and kept.redirect_uri == redirect_uri
        and found.check_redirect_uri(redirect_uri)
        and found.check_client_secret(kept.client_secret)
    )


def ensure_client(session: Session, hub_dir: Path, redirect_uri: str) -> tuple[HubClient, bool]:
    """The hub's client (and whether it was registered just now), in ``session``'s
    transaction; the file is written only for a new one (commit follows at once)."""
    path = hub_dir / CLIENT_FILE
    kept = read_kept(path)
    if kept is not None and still_valid(session, kept, redirect_uri):
        return kept, False
    if kept is not None and clients.find_client(session, kept.client_id) is not None:
        clients.remove_client(session, kept.client_id)
    made = clients.add_client(session, CLIENT_NAME, [redirect_uri], trusted=True)
    client = HubClient(made.client_id, made.client_secret, redirect_uri)
    keep(path, client)
    return client, True
