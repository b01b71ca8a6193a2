"""Upstream's sign-up questionnaire page, at upstream's address under /api/.

A signed-in account answers it after sign-up (INCOMPLETE), and may revise the answers
later; accounts.questionnaire decides what the first answers do to its status.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dandi_archive.accounts import questionnaire
from dandi_archive.accounts.registration import InvalidFields
from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.db.models import User, UserStatus
from dandi_archive.web.session import PostedForm, WebUser, flash
from dandi_archive.web.templating import render

QUESTIONNAIRE_URL = "/api/users/questionnaire-form/"
router = APIRouter(include_in_schema=False)


def _form(
    request: Request, account: User, answers: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    return render(
        request,
        "questionnaire.html",
        status,
        account=account,
        questions=questionnaire.QUESTIONS,
        answers=answers,
        errors=errors,
    )


@router.get(QUESTIONNAIRE_URL, response_class=HTMLResponse)
def questionnaire_page(request: Request, user: WebUser) -> Response:
    if user is None:  # a page: people sign in first rather than read a 401
        return RedirectResponse(f"/login?next={quote(QUESTIONNAIRE_URL)}", status_code=303)
    account = questionnaire.require_signed_in(user)
    return _form(request, account, questionnaire.current_answers(account), {}, 200)


@router.post(QUESTIONNAIRE_URL, response_class=HTMLResponse)
def answer_questionnaire(
    request: Request, archive: ArchiveDep, session: SessionDep, user: WebUser, form: PostedForm
) -> Response:
    try:
        account = questionnaire.submit(archive, session, user, form)
    except InvalidFields as exc:
        answers = {q.text: form.get(q.text) for q in questionnaire.QUESTIONS}
        return _form(request, questionnaire.require_signed_in(user), answers, exc.fields, 400)
    if account.status == UserStatus.APPROVED and not account.is_admin:
        flash(request, "Thank you! Your account is approved.")
    elif account.status == UserStatus.PENDING:
        flash(request, "Thank you! An administrator will approve your account soon.")
    else:
        flash(request, "Your answers are saved.")
    return RedirectResponse("/account", status_code=303)
