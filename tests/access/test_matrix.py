"""The permission matrix: every route, every kind of caller, an open and an embargoed
Dandiset, as one table (in the spirit of InvenioRDM's permission policies).

Each row is one route and method, with the outcome expected for each role, on the open
Dandiset and on the embargoed one (its asset, Zarr, upload). The table is complete by
construction: ``test_every_route_has_a_row`` enumerates the app's routes and fails when
one has no row, so a new route cannot be added without deciding who may call it.

Outcomes (one per role, in the order of ``TABLE_ROLES``):

- ``ok``: allowed, answered 2xx or 3xx (not a redirect to the sign-in page);
- ``pass``: allowed past the permission check, though this request may be refused for
  what it asks (400/409/422: publishing a draft that is not valid, say);
- ``401``: sign in first (the API answers 401; a page GET redirects to ``/login``, a
  page POST answers 401);
- ``no``: refused, 403 or 404.

API routes are called with the role's API key, pages with its signed-in browser session
(and the CSRF token of its session for POSTs). The *rejected* account signed in before
an administrator rejected it, so its pages are called with a cookie that no longer counts.
The *reviewer* is an approved account that the owner let read the embargoed Dandiset
(a reader): its outcome is not a column but derived (``Row.outcomes``): on the
embargoed Dandiset it reads what the owner reads (GET) and changes what any approved
account changes, unless the row says otherwise (``reviewer``); elsewhere it is any
approved account. A refused change must change nothing (``snapshot`` before and after);
allowed changes that would spoil the shared objects run on fresh ones (``fresh``).
Besides the status, no response to anyone but the owner and the admin may carry any of
the embargoed Dandiset's secrets (its title, file names, bytes, blob and Zarr ids; to
the reviewer, the owner's e-mail address).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from dandischema.consts import DANDI_SCHEMA_VERSION
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from dandi_archive.accounts import registration as accounts
from dandi_archive.accounts import users
from dandi_archive.app import create_app
from dandi_archive.archive import build_archive
from dandi_archive.db.models import HelpRequest, User, UserStatus
from dandi_archive.helpdesk import requests as helpdesk

from ..conftest import BACKENDS, make_settings
from ..helpers import DANDISET_METADATA, ApiClient, dandi_etag, md5_base64
from ..oauth.helpers import App, query_of, register, relying_party, sign_in_and_get_tokens, start
from ..web.helpers import PASSWORD, make_account

TABLE_ROLES = ("anonymous", "pending", "rejected", "approved", "owner", "admin")
ROLES = (*TABLE_ROLES, "reviewer")
STATES = ("open", "embargoed")
# Routes that are not the archive's: documentation and static files.
UNCHECKED = {"/api/openapi.json", "/swagger/", "/docs/oauth2-redirect", "/redoc/", "/static"}
UNCHECKED |= {"/api/docs/swagger/"}
API_PREFIXES = ("/api/", "/server-info", "/storage/", "/bucket/", "/dandi-dandisets")
API_PREFIXES += ("/.well-known/", "/context/")
API_PREFIXES += ("/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/userinfo")
API_PREFIXES += ("/oauth/jwks",)
# The application the OAuth rows sign people in to (untrusted: people are asked).
OAUTH_CALLBACK = "http://testserver/oauth-matrix/callback"

SECRET = b"sealed-otter recording bytes " * 40
ZARR_SECRET = b"sealed-otter zarr chunk"
SECRET_TITLE = "Sealed otter study"
SECRET_PATH = "sub-otter/sealed-otter-session.bin"
SECRET_ZARR = "sealed-otter.zarr"
SECRET_OWNER = "Olive Owner"  # its e-mail address is not shown to strangers either


# -- the table ------------------------------------------------------------------------

Body = Callable[["World", str, "Target"], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the route's path format, exactly as FastAPI declares it
    open: str  # outcomes per role on the open Dandiset (or the only one, see below)
    embargoed: str | None = None  # None: the route does not name a Dandiset; run once
    body: Body | None = None  # keyword arguments of the request (json, params, form data)
    fresh: str | None = None  # allowed calls run on a new one of these (they spoil it)
    embedded_only: bool = False  # the folder store's S3 stand-in
    after: str | None = None  # "keys": the call replaced API keys or ended sessions
    page: bool = False  # a page at an /api/ address (upstream's): called with the session
    reviewer: str | None = None  # the reviewer's outcome on the embargoed Dandiset, if not
    # derived (GET: the owner's; other methods: the approved stranger's)
    bearer: bool = False  # called with the role's OAuth access token (if it could get one)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def outcomes(self, state: str) -> dict[str, str]:
        spec = self.open if state == "open" else self.embargoed
        assert spec is not None
        tokens = spec.split()
        assert len(tokens) == len(TABLE_ROLES), f"{self.id}: {spec!r}"
        outcomes = dict(zip(TABLE_ROLES, tokens, strict=True))
        outcomes["reviewer"] = outcomes["approved"]
        if state == "embargoed":
            derived = outcomes["owner"] if self.method == "GET" else outcomes["approved"]
            outcomes["reviewer"] = self.reviewer or derived
        return outcomes


_counter = itertools.count()


def unique() -> int:
    return next(_counter)


def owners_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": [{"username": w.owner_username}]}


def version_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": {"name": t.title, "metadata": t.metadata}}


def new_asset_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": {"metadata": {"path": f"added/{role}-{unique()}.bin"}, "blob_id": t.blob}}


def asset_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": {"metadata": {"path": f"renamed/{role}-{unique()}.bin"}, "blob_id": t.blob}}


def new_zarr_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": {"name": f"new-{role}-{unique()}.zarr", "dandiset": t.d}}


def zarr_upload_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": [{"path": "1/0", "base64md5": md5_base64(b"more")}]}


def zarr_delete_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": [{"path": "0/0"}]}


def initialize_body(w: World, role: str, t: Target) -> dict[str, Any]:
    data = os.urandom(32)
    digest = {"algorithm": "dandi:dandi-etag", "value": dandi_etag(data)}
    return {"json": {"contentSize": len(data), "digest": digest, "dandiset": t.d}}


def complete_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": {"parts": [{"part_number": 1, "size": 32, "etag": "0" * 32}]}}


def digest_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": {"algorithm": "dandi:dandi-etag", "value": t.etag}}


def zarr_file(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"params": {"prefix": "0/0"}}


def new_dandiset_body(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"json": {"name": f"Made by {role}", "metadata": DANDISET_METADATA}}


def form(**values: str) -> Body:
    return lambda w, role, t: {"data": dict(values)}


def signup_form(w: World, role: str, t: Target) -> dict[str, Any]:
    email = f"new-{role}-{unique()}@example.org"
    return {
        "data": {"email": email, "name": "New Person", "password": PASSWORD, "password2": PASSWORD}
    }


def login_form(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"data": {"email": "visitor@example.org", "password": PASSWORD}}


def forgot_form(w: World, role: str, t: Target) -> dict[str, Any]:
    email = w.emails.get(role) or f"nobody-{unique()}@example.org"
    return {"data": {"email": email}}


def reset_form(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"data": {"token": "not-a-token", "password": PASSWORD, "password2": PASSWORD}}


def owners_form(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"data": {"action": "add", "username": w.owner_username}}


def questionnaire_form(w: World, role: str, t: Target) -> dict[str, Any]:
    """Upstream's answers, keeping the role's name (the answers set it)."""
    email = w.emails.get(role)
    with w.api.archive.db.session() as session:
        user = users.find_by_email(session, email) if email else None
        first, _, last = (user.name if user else "Any Body").partition(" ")
    use = "Please describe how your research project will utilize DANDI resources."
    answers = {"Affiliation(s)": "A lab", "Lab/project website": "https://example.org", use: "x"}
    return {"data": {"First Name": first, "Last Name": last or "-", **answers}}


def readers_body(w: World, role: str, t: Target) -> dict[str, Any]:
    """The readers as they are (the reviewer), so an allowed call keeps the world."""
    return {"json": [{"username": w.reviewer_username}]}


def readers_form(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"data": {"action": "add", "username": w.reviewer_username}}


def authorize_params(w: World, role: str, t: Target) -> dict[str, Any]:
    """A fresh authorization request of the matrix's application (new state and nonce)."""
    return {"params": query_of(start(w.oauth_rp).url)}


def consent_form(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"data": {**query_of(start(w.oauth_rp).url), "decision": "allow"}}


def client_form(**values: str) -> Body:
    """A request of the application, authenticated by its secret (client_secret_post)."""
    return lambda w, role, t: {
        "data": {"client_id": w.oauth_app.client_id, "client_secret": w.oauth_app.client_secret}
        | values
    }


def edit_form(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"data": {"name": t.title, "_add": "contributor:Person"}}  # shown, not saved


def edit_json_form(w: World, role: str, t: Target) -> dict[str, Any]:
    return {"data": {"metadata": json.dumps({**t.metadata, "name": t.title})}}  # as it is


# Read: anyone on open data (a rejected account's key is refused outright); embargoed
# data only by its owner and admins, anonymous callers being asked to sign in.
READ = dict(open="ok ok 401 ok ok ok", embargoed="401 no 401 no ok ok")
# Embargoed Zarrs and blobs, named by unguessable ids or digests, are not found by
# those who may not read them, rather than asked to sign in.
ZARR_READ = dict(open="ok ok 401 ok ok ok", embargoed="no no 401 no ok ok")
HIDDEN = ZARR_READ
# Change: the owner and admins; pending accounts may not change anything.
CHANGE = dict(open="401 no 401 no ok ok", embargoed="401 no 401 no ok ok")
# Pages: a rejected account's old cookie no longer counts, so it is anonymous there.
PAGE_READ = dict(open="ok ok ok ok ok ok", embargoed="401 no 401 no ok ok")
PAGE_CHANGE = dict(open="401 no 401 no ok ok", embargoed="401 no 401 no ok ok")
PUBLIC = "ok ok ok ok ok ok"
KEYED = "ok ok 401 ok ok ok"  # public, but a refused key is an error, not anonymity
APPROVED = "401 no 401 ok ok ok"
ADMIN = "401 no 401 no no ok"

D = "/api/dandisets/{dandiset_id}"
V = D + "/versions/{version}"
A = V + "/assets/{asset_id}"
Z = "/api/zarr/{zarr_id}"
P = "/dandiset/{dandiset_id}"

TABLE: tuple[Row, ...] = (
    # -- API: the server, accounts ------------------------------------------------------
    Row("GET", "/server-info", PUBLIC),
    Row("GET", "/api/info/", PUBLIC),
    Row("GET", "/api/schemas/available/", PUBLIC),
    Row("GET", "/api/schemas/", PUBLIC, body=lambda w, r, t: {"params": {"model": "Dandiset"}}),
    Row("GET", "/api/auth/token/", APPROVED),
    Row("POST", "/api/auth/token/", APPROVED, after="keys"),
    Row("GET", "/api/auth/token", APPROVED),
    Row("POST", "/api/auth/token", APPROVED, after="keys"),
    Row("GET", "/api/users/me/", "401 ok 401 ok ok ok"),
    Row("GET", "/api/users/search/", APPROVED, body=lambda w, r, t: {"params": {"username": "ol"}}),
    Row("GET", "/api/users/", ADMIN),
    # Upstream's sign-up questionnaire: a page (any signed-in account, its own answers).
    Row("GET", "/api/users/questionnaire-form/", "401 ok 401 ok ok ok", page=True),
    Row(
        "POST",
        "/api/users/questionnaire-form/",
        "401 ok 401 ok ok ok",
        body=questionnaire_form,
        page=True,
    ),
    Row("GET", "/api/admin/fixity/", ADMIN),
    Row("GET", "/api/stats/", PUBLIC),  # counts only, embargoed Dandisets included
    # Monitoring: reachability and counts by route template, nothing of any Dandiset.
    Row("GET", "/healthz", PUBLIC),
    Row("GET", "/metrics", PUBLIC),
    # Harvesting: published versions only (embargoed Dandisets have none).
    Row("GET", "/oai", PUBLIC, body=lambda w, r, t: {"params": {"verb": "Identify"}}),
    Row("POST", "/oai", PUBLIC, body=lambda w, r, t: {"data": {"verb": "ListSets"}}),
    Row("GET", "/sitemap.xml", PUBLIC),
    # Linked data: the JSON-LD context of the metadata, the same for everyone.
    Row("GET", "/context/dandi-{schema_version}.jsonld", PUBLIC),
    Row("GET", "/api/audit/events/asset", ADMIN),
    # -- API: Dandisets -----------------------------------------------------------------
    Row("GET", "/api/dandisets/", KEYED),
    Row("POST", "/api/dandisets/", APPROVED, body=new_dandiset_body),
    Row("GET", D + "/", **READ),
    Row("DELETE", D + "/", **CHANGE, fresh="dandiset"),
    Row(
        "POST",
        D + "/unembargo/",
        open="401 no 401 no pass pass",  # allowed, but there is no embargo to lift
        embargoed="401 no 401 no ok ok",
        fresh="dandiset",
    ),
    # Stars: approved accounts, on what they may read (upstream's rule).
    Row("POST", D + "/star/", open=APPROVED, embargoed="401 no 401 no ok ok", reviewer="ok"),
    Row("DELETE", D + "/star/", open=APPROVED, embargoed="401 no 401 no ok ok", reviewer="ok"),
    Row("GET", D + "/users/", **READ),
    Row("GET", D + "/audit/", **READ),
    Row("PUT", D + "/users/", **CHANGE, body=owners_body),
    Row("GET", D + "/uploads/", **CHANGE, reviewer="no"),
    # Readers and access requests of an embargoed Dandiset: its owners' business (an
    # open one has none: choosing readers or asking for access there is a 400).
    Row("GET", D + "/readers/", **CHANGE, reviewer="no"),
    Row(
        "PUT",
        D + "/readers/",
        open="401 no 401 no pass pass",
        embargoed="401 no 401 no ok ok",
        body=readers_body,
    ),
    Row("GET", D + "/access-requests/", **CHANGE, reviewer="no"),
    Row(
        "POST",
        D + "/access-requests/",
        open="401 no 401 pass pass pass",
        embargoed="401 no 401 ok pass pass",  # those who read it already have nothing to ask
        reviewer="pass",
        body=lambda w, r, t: {"json": {"message": f"{r} asks"}},
    ),
    # No request can exist on an open Dandiset: the shared one (of the embargoed
    # Dandiset) is not found through it.
    Row(
        "POST",
        D + "/access-requests/{request_id}/accept/",
        open="401 no 401 no no no",
        embargoed="401 no 401 no ok ok",
        fresh="request",
    ),
    Row(
        "POST",
        D + "/access-requests/{request_id}/decline/",
        open="401 no 401 no no no",
        embargoed="401 no 401 no ok ok",
        fresh="request",
    ),
    Row("DELETE", D + "/uploads/", **CHANGE, fresh="dandiset"),
    Row("GET", D + "/versions/", **READ),
    Row("GET", V + "/", **READ),
    Row("PUT", V + "/", **CHANGE, body=version_body),
    # Withdrawing is for admins and for published versions; the matrix's version is the
    # draft, which nobody may withdraw (tests/publishing/test_withdraw.py has the rest).
    Row("DELETE", V + "/", open="401 no 401 no no no", embargoed="401 no 401 no no no"),
    Row(
        "POST",
        V + "/publish/",
        open="401 no 401 no pass pass",  # a new empty Dandiset is not valid yet
        embargoed="401 no 401 no pass pass",  # embargoed Dandisets are not published
        fresh="dandiset",
    ),
    Row("GET", V + "/info/", **READ),
    Row("GET", V + "/croissant/", **READ),
    Row("GET", V + "/ro-crate-metadata.json", **READ),
    # -- API: assets and their bytes ----------------------------------------------------
    Row("GET", V + "/assets/", **READ),
    Row("POST", V + "/assets/", **CHANGE, body=new_asset_body),
    Row("GET", V + "/assets/paths/", **READ),
    Row(
        "GET",
        "/api/webdav/assets/atpath/",
        **READ,
        body=lambda w, r, t: {
            "params": {"dandiset_id": t.d, "version_id": "draft", "children": "true"}
        },
    ),
    Row("GET", A + "/", **READ),
    Row("PUT", A + "/", **CHANGE, body=asset_body, fresh="asset"),
    Row("DELETE", A + "/", **CHANGE, fresh="asset"),
    Row("GET", A + "/info/", **READ),
    Row("GET", A + "/validation/", **READ),
    Row("GET", A + "/download/", **READ),
    Row("GET", "/api/assets/{asset_id}/", **READ),
    Row("GET", "/api/assets/{asset_id}/info/", **READ),
    Row("GET", "/api/assets/{asset_id}/download/", **READ),
    # -- API: uploads and blobs ---------------------------------------------------------
    Row("POST", "/api/uploads/initialize/", **CHANGE, body=initialize_body),
    Row(
        "POST",
        "/api/uploads/{upload_id}/complete/",
        **CHANGE,
        body=complete_body,
        fresh="upload",
    ),
    Row(
        "POST",
        "/api/uploads/{upload_id}/validate/",
        open="401 no 401 no pass pass",  # nothing was uploaded
        embargoed="401 no 401 no pass pass",
        fresh="upload",
    ),
    # An embargoed blob is not found by its digest, but by its owners and admins.
    Row("POST", "/api/blobs/digest/", **HIDDEN, body=digest_body),
    # -- API: Zarrs -----------------------------------------------------------------------
    Row("GET", "/api/zarr/", KEYED),
    Row("POST", "/api/zarr/", **CHANGE, body=new_zarr_body),
    Row("GET", Z + "/", **ZARR_READ),
    Row("GET", Z + "/files", **ZARR_READ, body=zarr_file),  # HEAD: a redirect to the file
    Row("GET", Z + "/files/", **ZARR_READ, body=zarr_file),
    Row("GET", Z + "/tree/{zarr_path}", **ZARR_READ),
    Row("POST", Z + "/files/", **CHANGE, body=zarr_upload_body, fresh="zarr"),
    Row("DELETE", Z + "/files/", **CHANGE, body=zarr_delete_body, fresh="zarr"),
    Row("POST", Z + "/finalize/", **CHANGE, fresh="zarr"),
    Row("GET", "/api/search/", KEYED),
    Row("GET", "/api/dandisets/search/", KEYED),  # embargoed hits: SEARCHES below
    Row("GET", "/api/search/species/", KEYED),
    Row("GET", "/api/search/genotypes/", KEYED),
    # -- the folder store's S3: signed URLs, not keys, decide -----------------------------
    Row("PUT", "/storage/parts/{token}", "no no no no no no", embedded_only=True),
    Row("POST", "/storage/complete/{token}", "no no no no no no", embedded_only=True),
    # Objects at S3's path-style address (the bucket name is a setting) and the older one.
    Row(
        "PUT",
        "/dandi-dandisets/{key}",
        "no no no no no no",
        "no no no no no no",
        embedded_only=True,
    ),
    Row("PUT", "/bucket/{key}", "no no no no no no", "no no no no no no", embedded_only=True),
    # Open objects are public as in a public bucket; embargoed ones need a signed URL,
    # which only the download routes give (to owners and admins).
    Row("GET", "/dandi-dandisets/{key}", PUBLIC, "no no no no no no", embedded_only=True),
    Row("GET", "/bucket/{key}", PUBLIC, "no no no no no no", embedded_only=True),
    # The bucket itself (ListObjects, HeadBucket): public; lists only what anyone reads,
    # so never the embargoed Dandiset's blob or Zarr (the secrets check below).
    Row("GET", "/dandi-dandisets", PUBLIC, embedded_only=True),
    # -- pages ----------------------------------------------------------------------------
    Row("GET", "/", PUBLIC),
    # The instance's logo file: none is configured here, so there is nothing for anyone.
    Row("GET", "/logo", "no no no no no no"),
    Row("GET", "/search", PUBLIC),
    Row("GET", "/dandiset/new", "401 no 401 ok ok ok"),
    Row("POST", "/dandiset/new", "401 no 401 ok ok ok", body=form(name="Made on a page")),
    Row("GET", P, **PAGE_READ),
    Row("GET", P + "/{version}", **PAGE_READ),
    Row("GET", P + "/{version}/files", **PAGE_READ),
    Row("GET", P + "/{version}/files/{asset_id}", **PAGE_READ),
    # The citation in each format, the files as one zip and their SHA-256 manifest: what
    # the landing page shows, for those who may read it.
    Row("GET", P + "/{version}/cite.bib", **PAGE_READ),
    Row("GET", P + "/{version}/cite.ris", **PAGE_READ),
    Row("GET", P + "/{version}/cite.csl.json", **PAGE_READ),
    Row("GET", P + "/{version}/CITATION.cff", **PAGE_READ),
    Row("GET", P + "/{version}/download.zip", **PAGE_READ),
    Row("GET", P + "/{version}/SHA256SUMS", **PAGE_READ),
    # Star and write to the owners from the landing page: approved accounts, on what they
    # may read (an owner writing is told there is nobody else: a 303 back to the page).
    Row(
        "POST",
        P + "/star",
        open=APPROVED,
        embargoed="401 no 401 no ok ok",
        reviewer="ok",
        body=form(action="star"),
    ),
    Row(
        "POST",
        P + "/contact",
        open=APPROVED,
        embargoed="401 no 401 no ok ok",
        reviewer="ok",
        body=form(message="A question about the data"),
    ),
    Row("GET", P + "/draft/edit", **PAGE_CHANGE, reviewer="no"),
    Row("POST", P + "/draft/edit", **PAGE_CHANGE, body=edit_form),
    Row("GET", P + "/draft/edit/json", **PAGE_CHANGE, reviewer="no"),
    Row("POST", P + "/draft/edit/json", **PAGE_CHANGE, body=edit_json_form),
    Row("GET", P + "/owners", **PAGE_READ),
    Row("GET", P + "/history", **PAGE_READ),
    Row("POST", P + "/owners", **PAGE_CHANGE, body=owners_form),
    # The owners' access panel (readers, requests, Unembargo) and "Request access".
    Row("GET", P + "/access", **PAGE_CHANGE, reviewer="no"),
    Row(
        "POST",
        P + "/readers",
        open="401 no 401 no pass pass",
        embargoed="401 no 401 no ok ok",
        body=readers_form,
    ),
    Row(
        "POST",
        P + "/access-requests/{request_id}",
        open="401 no 401 no no no",
        embargoed="401 no 401 no ok ok",
        body=form(action="decline"),
        fresh="request",
    ),
    Row(
        "POST",
        P + "/unembargo",
        open="401 no 401 no pass pass",
        embargoed="401 no 401 no ok ok",
        body=form(confirm="yes"),
        fresh="dandiset",
    ),
    Row(
        "POST",
        P + "/request-access",
        open="401 no 401 pass pass pass",
        embargoed="401 no 401 ok pass pass",
        reviewer="pass",
        body=form(message="May I?"),
    ),
    Row("GET", P + "/publish", **PAGE_CHANGE, reviewer="no"),
    # Where "Publish now" leads: readers see how it went (never asked: back to the draft).
    Row(
        "GET",
        P + "/publishing",
        **PAGE_READ,
        body=lambda w, r, t: {"params": {"version": "0.990101.0000"}},
    ),
    Row(
        "POST",
        P + "/publish",
        open="401 no 401 no pass pass",  # not confirmed: the form again, 400
        embargoed="401 no 401 no pass pass",
    ),
    # The handbook: the same pages for everyone.
    Row("GET", "/handbook", PUBLIC),
    Row("GET", "/handbook/", PUBLIC),
    Row("GET", "/handbook/search", PUBLIC, body=lambda w, r, t: {"params": {"q": "upload"}}),
    Row("GET", "/handbook/{slug}", PUBLIC),
    Row("GET", "/signup", PUBLIC),
    Row("POST", "/signup", PUBLIC, body=signup_form, after="keys"),
    Row("GET", "/login", PUBLIC),
    Row("POST", "/login", PUBLIC, body=login_form, after="keys"),
    Row("POST", "/logout", PUBLIC, after="keys"),
    # Forgotten passwords: anyone may ask (the same answer for any address); a link's
    # page without a good token is a 400 page for everyone.
    Row("GET", "/password/forgot", PUBLIC),
    Row("POST", "/password/forgot", PUBLIC, body=forgot_form),
    Row("GET", "/password/reset", "pass pass pass pass pass pass"),
    Row("POST", "/password/reset", "pass pass pass pass pass pass", body=reset_form),
    Row("GET", "/account", "401 ok 401 ok ok ok"),
    Row("GET", "/my-dandisets", "401 ok 401 ok ok ok"),
    Row("POST", "/account/api-key", "401 no 401 ok ok ok", after="keys"),
    Row("GET", "/admin/users", ADMIN),
    Row("POST", "/admin/users/{user_id}", ADMIN, body=form(action="approve")),
    # The helpdesk: anyone reads whom to ask; any signed-in account (a pending one too)
    # writes to the administrators and reads its own requests; administrators answer.
    Row("GET", "/help/", PUBLIC),
    Row("POST", "/help/", "401 ok 401 ok ok ok", body=form(subject="Help", message="Please")),
    Row("GET", "/help/requests", "401 ok 401 ok ok ok"),
    Row("GET", "/admin/help", ADMIN),
    Row("POST", "/admin/help/{help_id}", ADMIN, body=form(answer="Done."), fresh="help"),
    # -- the OAuth 2 / OpenID Connect provider ---------------------------------------------
    Row("GET", "/.well-known/openid-configuration", PUBLIC),
    Row("GET", "/.well-known/oauth-authorization-server", PUBLIC),
    Row("GET", "/oauth/jwks", PUBLIC),
    # Codes for approved accounts only: the pending one gets a page saying it waits.
    Row("GET", "/oauth/authorize", APPROVED, body=authorize_params),
    Row("POST", "/oauth/authorize", APPROVED, body=consent_form),
    # Client-authenticated: the caller's account plays no part (a code nobody was given).
    Row(
        "POST",
        "/oauth/token",
        "pass pass pass pass pass pass",
        body=client_form(grant_type="authorization_code", code="none", redirect_uri="x"),
    ),
    Row("POST", "/oauth/revoke", PUBLIC, body=client_form(token="not-a-token")),
    Row("POST", "/oauth/introspect", PUBLIC, body=client_form(token="not-a-token")),
    # With each role's access token: none for the pending account (it can get none), the
    # rejected one's stopped working.
    Row("GET", "/oauth/userinfo", "401 401 401 ok ok ok", bearer=True),
    Row("POST", "/oauth/userinfo", "401 401 401 ok ok ok", bearer=True),
    # Sign-in with GitHub/ORCID is not set up here: nothing there, for anyone.
    Row("GET", "/login/{name}", "no no no no no no"),
    Row("GET", "/login/{name}/callback", "no no no no no no"),
)


# -- the world the table runs against ----------------------------------------------------


@dataclass
class Target:
    """One Dandiset and the things in it that routes name."""

    d: str
    title: str
    metadata: dict[str, Any]
    a: str  # an asset (a blob)
    blob: str
    etag: str
    key: str  # the blob's key in the bucket
    z: str  # a Zarr, with one file, also an asset
    u: str  # an upload, initialized and left so
    uid: int = 0  # an account waiting for approval
    r: str = "0"  # an access request (pending, of the embargoed Dandiset)
    h: str = "0"  # a help request (open)

    def params(self) -> dict[str, str]:
        return {
            "dandiset_id": self.d,
            "version": "draft",
            "asset_id": self.a,
            "zarr_id": self.z,
            "upload_id": self.u,
            "key": self.key,
            "token": "not-a-signed-token",
            "name": "github",
            "slug": "upload",
            "user_id": str(self.uid),
            "request_id": self.r,
            "help_id": self.h,
            "schema_version": DANDI_SCHEMA_VERSION,
            "zarr_path": "0/0",
        }


@dataclass
class World:
    api: ApiClient
    backend: str
    emails: dict[str, str]
    keys: dict[str, str | None] = field(default_factory=dict)
    browsers: dict[str, TestClient] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    methods: dict[str, set[str]] = field(default_factory=dict)
    owner_username: str = ""
    reviewer_username: str = ""
    oauth_app: App | None = None
    oauth_rp: Any = None
    bearers: dict[str, str] = field(default_factory=dict)  # OAuth access tokens by role

    def browser(self) -> TestClient:
        return TestClient(self.api.client.app, base_url="http://testserver")

    def sign_in(self, role: str) -> None:
        client = self.browser()
        if role != "anonymous":
            r = post_form(client, "/login", {"email": self.emails[role], "password": PASSWORD})
            assert r.status_code == 303, f"{role} cannot sign in: {r.status_code}"
        self.browsers[role] = client

    def refresh(self, everyone: bool = False) -> None:
        """API keys and sign-ins, at the start and after a row that replaced keys (which
        ends sessions) or signed browsers out. The rejected account keeps the key and the
        cookie it had when it was rejected."""
        self.keys["anonymous"] = None
        with self.api.archive.db.session(write=True) as session:
            for role, email in self.emails.items():
                if everyone or role != "rejected":
                    user = users.get_user_by_email(session, email)
                    self.keys[role] = users.get_or_create_api_key(session, user)
        for role in ROLES:
            if everyone or role != "rejected":
                self.sign_in(role)


def csrf_of(client: TestClient) -> str:
    for page in ("/", "/login"):
        match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
        if match:
            return match[1]
    raise AssertionError("no CSRF token on / or /login")


def post_form(client: TestClient, url: str, data: dict[str, Any]) -> httpx.Response:
    return client.post(url, data={"csrf_token": csrf_of(client), **data}, follow_redirects=False)


def build_target(w: World, state: str, *, full: bool = True) -> Target:
    """A Dandiset of the owner's in ``state``; with a file, a Zarr and an upload if full
    (else a fresh one to spoil, whose title is no secret: it may be unembargoed)."""
    api, owner = w.api, w.keys["owner"]
    assert owner
    secret = state == "embargoed"
    title = SECRET_TITLE if secret and full else f"Fresh {state} Dandiset {unique()}"
    params = {"embargo": "true"} if secret else {}
    d = api.create_dandiset(owner, title, **params)
    draft = api.get(f"/api/dandisets/{d}/versions/draft/", owner).json()
    if not full:
        return Target(d, title, draft, "", "", "", "", "", "")
    data = SECRET if secret else b"plain-beaver bytes " * 40
    asset = api.add_asset(owner, d, SECRET_PATH if secret else "sub-beaver/plain.bin", data)
    z = api.create_zarr(owner, d, SECRET_ZARR if secret else "plain-beaver.zarr")
    api.put_zarr_files(owner, z, {"0/0": ZARR_SECRET if secret else b"plain chunk"})
    api.finalize_zarr(owner, z)
    r = api.post(
        f"/api/dandisets/{d}/versions/draft/assets/",
        owner,
        json={"metadata": {"path": SECRET_ZARR if secret else "plain-beaver.zarr"}, "zarr_id": z},
    )
    assert r.status_code == 200, r.text
    upload = api.post(
        "/api/uploads/initialize/", owner, **initialize_body(w, "owner", replace_d(d))
    )
    assert upload.status_code == 200, upload.text
    blob = asset["blob"]
    return Target(
        d=d,
        title=title,
        metadata=draft,
        a=asset["asset_id"],
        blob=blob,
        etag=dandi_etag(data),
        key=f"blobs/{blob[:3]}/{blob[3:6]}/{blob}",
        z=z,
        u=upload.json()["upload_id"],
    )


def replace_d(d: str) -> Target:
    return Target(d, "", {}, "", "", "", "", "", "")


def fresh_target(w: World, kind: str, state: str, base: Target) -> Target:
    """A new object of ``kind`` for one allowed call that would spoil the shared one."""
    api, owner = w.api, w.keys["owner"]
    if kind == "dandiset":
        return replace(base, d=build_target(w, state, full=False).d)
    if kind == "asset":
        r = api.post(
            f"{V.format(dandiset_id=base.d, version='draft')}/assets/",
            owner,
            **new_asset_body(w, "owner", base),
        )
        assert r.status_code == 200, r.text
        return replace(base, a=r.json()["asset_id"])
    if kind == "zarr":
        z = api.create_zarr(owner, base.d, f"fresh-{unique()}.zarr")
        api.put_zarr_files(owner, z, {"0/0": b"fresh chunk"})
        return replace(base, z=z)
    if kind == "request":
        asker = api.make_user(f"asker-{unique()}@example.org", name="Ann Asker")
        r = api.post(f"/api/dandisets/{base.d}/access-requests/", asker)
        assert r.status_code == 200, r.text
        return replace(base, r=str(r.json()["id"]))
    if kind == "help":
        return replace(base, h=str(help_request(w)))
    if kind == "upload":
        r = api.post("/api/uploads/initialize/", owner, **initialize_body(w, "owner", base))
        assert r.status_code == 200, r.text
        return replace(base, u=r.json()["upload_id"])
    raise AssertionError(kind)


def help_request(w: World) -> int:
    """An open help request of the approved stranger's."""
    with w.api.archive.db.session(write=True) as session:
        user = users.get_user_by_email(session, w.emails["approved"])
        request = helpdesk.submit(w.api.archive, session, user, "Matrix", "A question")
        return request.id


def build_world(api: ApiClient, backend: str) -> World:
    emails = {role: f"{role}@example.org" for role in ROLES if role != "anonymous"}
    w = World(api, backend, emails)
    names = {
        "owner": SECRET_OWNER,
        "admin": "Ada Admin",
        "approved": "Al Approved",
        "reviewer": "Rita Reviewer",
    }
    for role, email in emails.items():
        status = UserStatus.PENDING if role == "pending" else UserStatus.APPROVED
        make_account(api, email, admin=role == "admin", status=status, name=names.get(role, role))
    w.refresh(everyone=True)  # API keys (a pending account has one, as after sign-up) and sign-ins
    w.oauth_app = register(api, "Matrix app", uris=(OAUTH_CALLBACK,))
    w.oauth_rp = relying_party(api, w.oauth_app)
    for role in ("approved", "owner", "admin", "reviewer", "rejected"):  # rejected: still may
        _, _, token = sign_in_and_get_tokens(api, w.browsers[role], w.oauth_app)
        w.bearers[role] = token["access_token"]
    make_account(api, "visitor@example.org", name="Vic Visitor")
    with api.archive.db.session(write=True) as session:
        waiting = users.create_user(
            session, "waiting@example.org", name="Wai Ting", status=UserStatus.PENDING
        )
        session.flush()
        uid = waiting.id
        w.owner_username = users.get_user_by_email(session, emails["owner"]).username
        w.reviewer_username = users.get_user_by_email(session, emails["reviewer"]).username
    for state in STATES:
        w.targets[state] = build_target(w, state)
        w.targets[state].uid = uid
    # The reviewer reads the embargoed Dandiset; someone else's request waits there.
    embargoed = w.targets["embargoed"]
    r = api.put(
        f"/api/dandisets/{embargoed.d}/readers/",
        w.keys["owner"],
        **readers_body(w, "owner", embargoed),
    )
    assert r.status_code == 200, r.text
    asker = api.make_user("asker@example.org", name="Ann Asker")
    r = api.post(f"/api/dandisets/{embargoed.d}/access-requests/", asker)
    assert r.status_code == 200, r.text
    help_id = str(help_request(w))
    for t in w.targets.values():
        t.r = str(r.json()["id"])
        t.h = help_id
    api.wait_for_jobs()
    # Rejected after signing in: its key and its browser session both stop counting.
    with api.archive.db.session(write=True) as session:
        admin = users.get_user_by_email(session, emails["admin"])
        rejected = users.get_user_by_email(session, emails["rejected"])
        accounts.set_status(api.archive, session, admin, rejected.id, UserStatus.REJECTED)
    for route in [
        *iter_route_contexts(api.client.app.routes),
        *api.client.app.state.signed_put_routes,
    ]:
        if route.path_format:
            w.methods.setdefault(route.path_format, set()).update(route.methods or ())
    return w


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Built once per backend: accounts, browsers, an open and an embargoed Dandiset."""
    backend = request.param
    # The OAuth rows run at http://testserver, which authlib would refuse as insecure.
    patch = pytest.MonkeyPatch()
    patch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    request.addfinalizer(patch.undo)
    data_dir = tmp_path_factory.mktemp(f"matrix-{backend}")
    settings = make_settings(backend, data_dir / "data", request)
    archive = build_archive(settings, run_jobs_in_process=True)
    if settings.s3_bucket:
        archive.store.ensure_bucket()  # type: ignore[attr-defined]
    client = TestClient(create_app(archive), base_url="http://testserver")
    client.__enter__()
    try:
        yield build_world(ApiClient(client, archive), backend)
    finally:
        client.__exit__(None, None, None)
        archive.close()
        shutil.rmtree(data_dir, ignore_errors=True)


# -- running a row ------------------------------------------------------------------------


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIXES)


def call(w: World, row: Row, role: str, t: Target, method: str | None = None) -> httpx.Response:
    method = method or row.method
    url = row.path.format(**t.params())
    kwargs = row.body(w, role, t) if row.body else {}
    if row.bearer:
        bearer = w.bearers.get(role)
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return w.api.request(method, url, None, headers=headers, follow_redirects=False)
    if is_api(row.path) and not row.page:
        return w.api.request(method, url, w.keys[role], follow_redirects=False, **kwargs)
    client = w.browsers[role]
    if row.path in ("/signup", "/login", "/logout"):  # not to spoil the role's own session
        client = w.browser()
        client.cookies = w.browsers[role].cookies
    if method == "POST":
        return post_form(client, url, kwargs.get("data", {}))
    return client.request(method, url, follow_redirects=False, **kwargs)


def outcome(row: Row, r: httpx.Response) -> str:
    """The token of the table this response counts as."""
    status = r.status_code
    to_login = 300 <= status < 400 and r.headers.get("location", "").startswith("/login")
    if status == 401 or (to_login and (row.page or not is_api(row.path))):
        return "401"
    if status in (403, 404):
        return "no"
    if 200 <= status < 400:
        return "ok"
    if status in (400, 409, 422):
        return "pass"
    return str(status)


def matches(expected: str, got: str) -> bool:
    return got == expected or (expected == "pass" and got == "ok")


def secrets_of(w: World) -> list[str]:
    t = w.targets["embargoed"]
    return [SECRET_TITLE, "sealed-otter", t.blob, t.z, "owner@example.org", t.etag]


def leaked(w: World, row: Row, r: httpx.Response, url: str, role: str) -> list[str]:
    """Secrets of the embargoed Dandiset in the response (or where it redirects); the
    reviewer reads the Dandiset, but not its owners' e-mail addresses."""
    texts = [r.content.decode("latin-1")]
    location = r.headers.get("location", "")
    if 300 <= r.status_code < 400 and location and not location.startswith("/login"):
        texts.append(w.api.get(location).content.decode("latin-1"))
    secrets = ["owner@example.org"] if role == "reviewer" else secrets_of(w)
    found = [s for s in secrets if s not in url and any(s in x for x in texts)]
    if role == "reviewer":
        return found
    if "sealed-otter" not in url and any(SECRET.decode() in x for x in texts):
        found.append("the embargoed bytes")
    return found


def snapshot(w: World) -> list[Any]:
    """What refused changes must leave as it was: both Dandisets, their drafts, owners,
    assets, Zarrs and uploads, the list of Dandisets, the accounts."""
    w.api.wait_for_jobs()  # the allowed calls of the row before may have started some
    admin = w.keys["admin"]
    urls = ["/api/dandisets/?embargoed=true&page_size=1000"]
    for t in w.targets.values():
        urls += [
            f"/api/dandisets/{t.d}/",
            f"/api/dandisets/{t.d}/users/",
            f"/api/dandisets/{t.d}/readers/",
            f"/api/dandisets/{t.d}/access-requests/",
            f"/api/dandisets/{t.d}/uploads/",
            f"/api/dandisets/{t.d}/versions/draft/info/",
            f"/api/dandisets/{t.d}/versions/draft/assets/?page_size=1000",
            f"/api/zarr/{t.z}/",
            f"/api/zarr/{t.z}/files/",
        ]
    state = [w.api.get(url, admin).json() for url in urls]
    with w.api.archive.db.session() as session:
        state.append(sorted(session.execute(select(User.email, User.status, User.username))))
        state.append(list(session.execute(select(HelpRequest.id, HelpRequest.answer))))
    return state


def run_row(w: World, row: Row, state: str) -> list[str]:
    """Every role against ``state``: the refused calls first, checked to have changed
    nothing, then the allowed ones (on fresh objects when they spoil them)."""
    t = w.targets[state]
    expected = row.outcomes(state)
    refused = [r for r in ROLES if expected[r] in ("401", "no")]
    allowed = [r for r in ROLES if r not in refused]
    before = snapshot(w) if row.method != "GET" else None
    failures: list[str] = []
    for role in refused:
        failures += check_call(w, row, role, state, t, expected[role])
    if before is not None and (after := snapshot(w)) != before:
        changed = [(x, y) for x, y in zip(before, after, strict=True) if x != y]
        failures.append(f"{row.id} [{state}]: a refused call changed {changed}")
    for role in allowed:
        target = fresh_target(w, row.fresh, state, t) if row.fresh else t
        failures += check_call(w, row, role, state, target, expected[role])
    return failures


def check_call(w: World, row: Row, role: str, state: str, t: Target, expected: str) -> list[str]:
    """One role's call (and its HEAD twin): the outcome, and no embargoed secret in it."""
    failures = []
    url = row.path.format(**t.params())
    methods = [row.method]
    if row.method == "GET" and "HEAD" in w.methods.get(row.path, ()):
        methods.append("HEAD")
    for method in methods:
        r = call(w, row, role, t, method)
        got = outcome(row, r)
        if not matches(expected, got):
            failures.append(
                f"{method} {url} [{state}] as {role}: expected {expected}, got "
                f"{r.status_code} {r.text[:300]!r}"
            )
        if role not in ("owner", "admin") and (found := leaked(w, row, r, url, role)):
            failures.append(f"{method} {url} [{state}] as {role} leaks {found}")
    if row.after == "keys":
        w.refresh()
    return failures


def rows_for(backend: str) -> list[Row]:
    return [row for row in TABLE if backend == "embedded" or not row.embedded_only]


@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.id)
def test_permission_matrix(world: World, row: Row) -> None:
    if row not in rows_for(world.backend):
        pytest.skip("the folder store's S3 stand-in exists on the embedded backend only")
    failures: list[str] = []
    for state in STATES if row.embargoed is not None else ("open",):
        failures += run_row(world, row, state)
    assert not failures, "\n".join(failures)


def test_every_route_has_a_row(world: World) -> None:
    """A new route fails here until the table says who may call it."""
    declared = {
        (method, path)
        for path, methods in world.methods.items()
        if path not in UNCHECKED
        for method in methods - {"HEAD"}
    }
    tabled = {(row.method, row.path) for row in rows_for(world.backend)}
    assert not declared - tabled, f"routes without a row in TABLE: {sorted(declared - tabled)}"
    assert not tabled - declared, f"rows for routes that do not exist: {sorted(tabled - declared)}"


# -- embargoed bytes, probed through every way out ------------------------------------------

STRANGERS = ("anonymous", "pending", "rejected", "approved")


def found_in(w: World, role: str, url: str, **params: Any) -> bool:
    """Whether the embargoed Dandiset is among the hits of a search (API or page)."""
    d = w.targets["embargoed"].d
    if is_api(url):
        r = w.api.get(url, w.keys[role], params=params)
        if r.status_code != 200:
            return False
        return d in {hit.get("identifier") for hit in r.json()["results"]}
    r = w.browsers[role].get(url, params=params)
    return f"/dandiset/{d}" in r.text or SECRET_TITLE in r.text


# (address, query, whether the owner finds it there: without embargoed=true the Dandiset
# listing leaves embargoed Dandisets out for everyone).
SEARCHES = (
    ("/api/search/", {"q": "otter"}, True),
    ("/api/search/", {"q": "sealed-otter-session"}, True),  # a file name
    ("/api/search/", {"embargo": "EMBARGOED"}, True),
    ("/api/dandisets/", {"search": "otter"}, False),
    ("/api/dandisets/", {"search": "otter", "embargoed": "true"}, True),
    ("/api/dandisets/search/", {}, False),
    ("/api/dandisets/search/", {"embargoed": "true"}, True),
    ("/search", {"q": "otter"}, True),
    ("/search", {"q": "sealed-otter-session"}, True),
)


@pytest.mark.parametrize("role", (*STRANGERS, "owner", "reviewer"))
def test_embargoed_dandiset_is_found_only_by_its_owners(world: World, role: str) -> None:
    """The owner's (and its reviewer's) searches find it (so the probes can tell);
    nobody else's do."""
    for url, params, owner_finds in SEARCHES:
        found = found_in(world, role, url, **params)
        reads = role in ("owner", "reviewer")
        assert found == (owner_finds and reads), f"{role} {url} {params}: {found}"


def followed(w: World, role: str, url: str, **params: Any) -> bytes:
    """The bytes a client following redirects would end with."""
    r = w.api.get(url, w.keys[role], params=params, follow_redirects=False)
    hops = 0
    while 300 <= r.status_code < 400 and hops < 5:
        r = w.api.get(r.headers["Location"], follow_redirects=False)
        hops += 1
    return r.content if r.status_code == 200 else b""


@pytest.mark.parametrize("role", (*STRANGERS, "owner", "admin", "reviewer"))
def test_embargoed_bytes_only_through_owners_downloads(world: World, role: str) -> None:
    t = world.targets["embargoed"]
    got = {
        "nested download": followed(
            world, role, f"/api/dandisets/{t.d}/versions/draft/assets/{t.a}/download/"
        ),
        "asset download": followed(world, role, f"/api/assets/{t.a}/download/"),
        "zarr file": followed(world, role, f"/api/zarr/{t.z}/files/", prefix="0/0", download=1),
    }
    expected = {"nested download": SECRET, "asset download": SECRET, "zarr file": ZARR_SECRET}
    if role in ("owner", "admin", "reviewer"):
        assert got == expected
    else:
        assert not any(got.values()), f"{role} obtains {[k for k, v in got.items() if v]}"


def test_digest_pivot_is_closed(world: World) -> None:
    """Knowing the embargoed content (its etag), an approved stranger neither learns the
    blob's id nor puts the embargoed blob or Zarr into an open Dandiset of their own."""
    w, t = world, world.targets["embargoed"]
    stranger = w.keys["approved"]
    assert stranger
    digest = w.api.post("/api/blobs/digest/", stranger, **digest_body(w, "approved", t))
    assert digest.status_code == 404 and t.blob not in digest.text
    mine = w.api.create_dandiset(stranger, "Stranger's open Dandiset")
    for reference in ({"blob_id": t.blob}, {"zarr_id": t.z}):
        r = w.api.post(
            f"/api/dandisets/{mine}/versions/draft/assets/",
            stranger,
            json={"metadata": {"path": "pivot.bin"}, **reference},
        )
        assert r.status_code in (403, 404), (reference, r.status_code, r.text)
    assets = w.api.get(f"/api/dandisets/{mine}/versions/draft/assets/", stranger).json()
    assert assets["count"] == 0


def raw_get(app: Any, raw_path: str) -> tuple[int, bytes]:
    """GET a path exactly as spelled (httpx removes dot segments; uvicorn does not): the
    scope a server builds, with the percent-decoded path and the raw one."""
    import anyio

    status, body = 0, bytearray()
    requested = False
    done: Any = None

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # as a server does: the client goes away once answered
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    async def run() -> None:
        nonlocal done
        done = anyio.Event()
        await app(scope, receive, send)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    anyio.run(run)
    return status, bytes(body)


def bucket_spelling(spelling: str) -> Any:
    return pytest.param(spelling, id=spelling)


# {blob}: the embargoed blob's key (blobs/abc/def/<id>); {zarr}: its Zarr's id.
BUCKET_SPELLINGS = (
    bucket_spelling("{blob}"),
    bucket_spelling("zarr/{zarr}/0/0"),
    bucket_spelling("{blob_double_slash}"),
    bucket_spelling("./{blob}"),
    bucket_spelling("x/../{blob}"),
    bucket_spelling("zarr/%2e%2e/{blob}"),
    bucket_spelling("zarr//{zarr}/0/0"),
    bucket_spelling("zarr/./{zarr}/0/0"),
    bucket_spelling("blobs/../zarr/{zarr}/0/0"),
)


@pytest.mark.parametrize("prefix", ["/dandi-dandisets/", "/bucket/"])
@pytest.mark.parametrize("spelling", BUCKET_SPELLINGS)
def test_bucket_urls_never_serve_embargoed_bytes(world: World, spelling: str, prefix: str) -> None:
    """The folder store's public bucket URLs, however the key is spelled, to anyone
    without a signed URL (the API's role does not matter there)."""
    if world.backend != "embedded":
        pytest.skip("the folder store serves its bucket on the embedded backend only")
    t = world.targets["embargoed"]
    blob = t.key
    path = spelling.format(
        blob=blob, zarr=t.z, blob_double_slash=blob.replace("blobs/", "blobs//", 1)
    )
    status, body = raw_get(world.api.client.app, prefix + path)
    assert status != 200 and SECRET not in body and ZARR_SECRET not in body, (status, body[:80])
    assert status in (400, 403, 404)
