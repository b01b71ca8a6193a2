"""Upstream's sign-up questionnaire and admin user list: a new account answers the
questions, and is approved automatically only for a verified address of a configured
domain; everyone else waits for an administrator, who sees the answers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dandi_archive.accounts import questionnaire
from dandi_archive.config import Settings
from dandi_archive.db.models import User, UserStatus

from ..web.helpers import PASSWORD, Browser, make_account, text_of

URL = "/api/users/questionnaire-form/"
USE = "Please describe how your research project will utilize DANDI resources."
ANSWERS = {
    "First Name": "Grace",
    "Last Name": "Hopper",
    "Affiliation(s)": "Yale University",
    "Lab/project website": "https://example.edu/lab",
    USE: "Share recordings of compilers thinking.",
}


def sign_up(api, email: str = "grace@cs.example.edu") -> Browser:
    web = Browser(api)
    r = web.post(
        "/signup",
        {"email": email, "name": "Grace B. Hopper", "password": PASSWORD, "password2": PASSWORD},
    )
    assert r.status_code == 303 and r.headers["location"] == URL
    return web


def status_of(web: Browser) -> str:
    return web.client.get("/api/users/me/").json()["status"]


def stored(api, email: str) -> User:
    with api.archive.db.session() as session:
        user = session.query(User).filter_by(email=email).one()
        session.expunge(user)
        return user


def test_sign_up_leads_to_the_questions_then_to_an_administrator(api):
    make_account(api, "admin@example.org", admin=True, name="Ada Admin")
    web = sign_up(api)
    assert status_of(web) == "INCOMPLETE"
    assert "answer a few questions" in web.get("/account").text
    form = web.get(URL)
    assert form.status_code == 200 and "text/html" in form.headers["content-type"]
    assert "Welcome to DANDI" in form.text and "Lab/project website" in form.text
    assert 'value="Grace"' in form.text and 'value="B. Hopper"' in form.text  # from the name
    assert "Your account" in web.get("/account").text  # the site's own layout around it

    # Unanswered and over-long answers: the form again, with the input kept, no change.
    missing = web.post(URL, {**ANSWERS, "Affiliation(s)": "  ", USE: "x" * 1001})
    assert missing.status_code == 400 and "text/html" in missing.headers["content-type"]
    assert "Please answer this question." in missing.text
    assert "Use at most 1000 characters." in missing.text and 'value="Grace"' in missing.text
    assert (
        status_of(web) == "INCOMPLETE" and stored(api, "grace@cs.example.edu").questionnaire is None
    )

    # A .edu address typed at sign-up is not verified: it waits for an administrator.
    ok = web.post(URL, ANSWERS)
    assert ok.status_code == 303 and ok.headers["location"] == "/account"
    assert status_of(web) == "PENDING"
    grace = stored(api, "grace@cs.example.edu")
    assert grace.questionnaire == ANSWERS and grace.name == "Grace Hopper"
    assert "An administrator reviews your" in web.get("/account").text

    admin = Browser(api)
    admin.sign_in("admin@example.org")
    listing = text_of(admin.get("/admin/users").text)
    assert "Yale University" in listing and "Share recordings of compilers thinking." in listing


def test_answering_again_updates_answers_but_never_the_decision(api):
    web = sign_up(api, "pat@example.org")
    assert web.post(URL, ANSWERS).status_code == 303
    with api.archive.db.session(write=True) as session:
        session.query(User).filter_by(email="pat@example.org").one().email_verified = True
    # Now verified and (say) of an approving domain: still PENDING, only an admin decides.
    again = web.post(URL, {**ANSWERS, "Affiliation(s)": "Elsewhere"}, form_page=URL)
    assert again.status_code == 303 and status_of(web) == "PENDING"
    assert stored(api, "pat@example.org").questionnaire["Affiliation(s)"] == "Elsewhere"


def test_a_verified_address_is_approved_by_the_default_domains(api):
    web = sign_up(api, "ann@neuro.example.edu")
    with api.archive.db.session(write=True) as session:  # as a GitHub sign-in does
        session.query(User).filter_by(email="ann@neuro.example.edu").one().email_verified = True
    assert web.post(URL, ANSWERS).status_code == 303
    assert status_of(web) == "APPROVED"
    assert api.get("/api/auth/token/", None).status_code == 401
    assert web.get("/dandiset/new").status_code == 200


def test_questionnaire_needs_a_signed_in_account(api):
    anonymous = Browser(api)
    r = anonymous.get(URL)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    posted = anonymous.client.post(URL, data=ANSWERS)
    assert 400 <= posted.status_code < 500 and posted.json()["detail"]


def test_users_list_is_for_admins_in_upstreams_shape(api):
    admin = make_account(api, "admin@example.org", admin=True, name="Ada Admin")
    member = make_account(api, "bob@example.org", name="Bob Builder")
    make_account(api, "pat@example.org", name="Pat Pending", status=UserStatus.PENDING)
    assert api.get("/api/users/").status_code == 401
    refused = api.get("/api/users/", member)
    assert refused.status_code == 403 and refused.json()["detail"]

    everyone = api.get("/api/users/", admin)
    assert everyone.status_code == 200
    assert everyone.json() == ["ada-admin", "bob-builder", "pat-pending"]
    approved = api.get("/api/users/", admin, params={"approved_only": "true"}).json()
    assert approved == ["ada-admin", "bob-builder"]
    assert (
        api.get("/api/users/", admin, params={"approved_only": "false"}).json() == everyone.json()
    )
    bad = api.get("/api/users/", admin, params={"approved_only": "perhaps"})
    assert bad.status_code == 400 and "approved_only" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("email", "approves"),
    [
        ("a@mit.edu", True),
        ("A@Neuro.MIT.EDU", True),
        ("a@alleninstitute.org", True),
        ("a@fakealleninstitute.org", False),
        ("a@nih.gov", True),
        ("a@lab.nih.gov", False),
        ("a@example.org", False),
        ("a@edu.example.org", False),
    ],
)
def test_default_domains_are_upstreams(email, approves):
    user = User(email=email, email_verified=True)
    suffixes = Settings().auto_approve_suffixes
    assert questionnaire.auto_approves(user, suffixes) is approves
    assert not questionnaire.auto_approves(User(email=email, email_verified=False), suffixes)


@pytest.mark.parametrize("value", ["example.org", ".edu,edu", "@", ". edu"])
def test_a_domain_that_would_match_too_much_is_refused_at_start(value):
    with pytest.raises(ValidationError, match="must start with"):
        Settings(auto_approve_domains=value)
