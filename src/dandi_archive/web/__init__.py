"""The archive's web pages, rendered on the server from Jinja2 templates.

Pages call the same services as the API with the signed-in user, so a page can never
make a change the API would refuse. Sign-in is a session kept on the server
(accounts.web_sessions) whose token rides in a signed cookie (Starlette's
SessionMiddleware); every form carries a CSRF token bound to that cookie.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from dandi_archive.instance import Archive
from dandi_archive.web import (
    accounts,
    dandiset_pages,
    download_pages,
    embargo_pages,
    errors,
    external_sign_in,
    handbook,
    helpdesk,
    history_pages,
    landing_actions,
    oauth,
    owner,
    pages,
    password_reset,
    questionnaire,
)

STATIC = Path(__file__).with_name("static")
SESSION_MAX_AGE = 14 * 24 * 3600


def install(app: FastAPI, archive: Archive) -> None:
    settings = archive.settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.signing_key,
        session_cookie="dandi_session",
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.webui_url.startswith("https://"),
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # owner, embargo_pages and history_pages first: their /dandiset/new,
    # /dandiset/{id}/owners, …/access and …/history precede /dandiset/{id}/{version}.
    modules = (owner, embargo_pages, history_pages, pages, dandiset_pages, download_pages)
    modules += (landing_actions, accounts)
    modules += (external_sign_in,)
    for module in (*modules, questionnaire, handbook, helpdesk, oauth, password_reset):
        app.include_router(module.router)
    errors.install(app)
