"""The helpdesk: a signed-in user writes to the administrators (optionally about a
Dandiset they can see), the question arrives by mail at a real SMTP server, an
administrator answers on the admin page, the answer arrives by mail and is shown on
"My help requests". Bad input gives the form back with a reason; nothing is stored."""

from __future__ import annotations

from sqlalchemy import func, select

from dandi_archive.db.models import HelpRequest, OutgoingMail, UserStatus
from dandi_archive.helpdesk.requests import MAX_ANSWER, MAX_MESSAGE, MAX_SUBJECT

from ..web.helpers import Browser, make_account, text_of
from .conftest import smtp_settings


def ask(web: Browser, subject: str, message: str, dandiset: str = ""):
    return web.post("/help/", {"subject": subject, "message": message, "dandiset": dandiset})


def stored(api) -> int:
    with api.archive.db.session() as session:
        return session.scalar(select(func.count(HelpRequest.id))) or 0


def test_a_question_and_its_answer_travel_by_mail(make_api, smtp):
    api = make_api(**smtp_settings(smtp, admin_emails="desk@example.org"))
    key = make_account(api, "ann@example.org", name="Ann Asker")
    make_account(api, "ada@example.org", name="Ada Admin", admin=True)
    d = api.create_dandiset(key, "Whiskers of mice")
    web, admin = Browser(api), Browser(api)
    web.sign_in("ann@example.org")
    admin.sign_in("ada@example.org")

    page = web.get(f"/help/?dandiset={d}")
    assert page.status_code == 200 and 'id="help-form"' in page.text
    assert f'value="{d}"' in page.text  # filled in from the link
    r = ask(web, "Upload stops", "dandi upload says\n  error id 42\nat 3 GB.", d)
    assert r.status_code == 303 and r.headers["location"] == "/help/requests"
    api.wait_for_jobs()
    [question] = smtp.wait_for(1)
    assert question.envelope_to == ["desk@example.org"]
    assert question.subject.startswith("Help request ") and "Upload stops" in question.subject
    body = question.body
    assert "Ann Asker <ann@example.org>" in body and "  error id 42" in body
    assert f'{d} "Whiskers of mice"' in body and f"http://testserver/dandiset/{d}" in body
    request_id = int(question.subject.split()[2].rstrip(":"))
    assert f"http://testserver/admin/help#request-{request_id}" in question.links

    mine = text_of(web.get("/help/requests").text)
    assert "Upload stops" in mine and "waiting for an answer" in mine and d in mine

    listed = admin.get("/admin/help")
    assert listed.status_code == 200 and f'id="request-{request_id}"' in listed.text
    assert "ann@example.org" in listed.text
    # An empty answer: the list again, with the reason, nothing sent.
    empty = admin.post(f"/admin/help/{request_id}", {"answer": "  "}, form_page="/admin/help")
    assert empty.status_code == 400 and "The answer is empty" in text_of(empty.text)
    answered = admin.post(
        f"/admin/help/{request_id}",
        {"answer": "Use --jobs 1 and retry.\nThe server limit is 5 GB."},
        form_page="/admin/help",
    )
    assert answered.status_code == 303
    api.wait_for_jobs()
    smtp.wait_for(2)
    [reply] = smtp.to("ann@example.org")
    assert reply.subject == "Re: Upload stops"
    assert "  Use --jobs 1 and retry." in reply.body and "Ada Admin" in reply.body
    assert "http://testserver/help/requests" in reply.links
    assert len(smtp.received) == 2

    mine = text_of(web.get("/help/requests").text)
    assert "Use --jobs 1 and retry." in mine and "answered" in mine
    assert "waiting for an answer" not in mine
    # Answered: off the open list, on the answered one; a second answer is refused.
    assert f'id="request-{request_id}"' not in admin.get("/admin/help").text
    assert f'id="request-{request_id}"' in admin.get("/admin/help?status=answered").text
    again = admin.post(f"/admin/help/{request_id}", {"answer": "More."}, form_page="/admin/help")
    assert again.status_code == 400 and "already answered" in again.text
    assert admin.get("/admin/help?status=nonsense").status_code == 400
    api.wait_for_jobs()
    assert len(smtp.received) == 2


def test_without_admin_addresses_every_admin_hears_and_lists_are_newest_first(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    make_account(api, "pat@example.org", name="Pat Pending", status=UserStatus.PENDING)
    make_account(api, "ada@example.org", admin=True)
    make_account(api, "bo@example.org", admin=True)
    web, admin = Browser(api), Browser(api)
    web.sign_in("pat@example.org")  # a pending account may ask (why it still waits, say)
    admin.sign_in("ada@example.org")
    assert ask(web, "First", "one").status_code == 303
    assert ask(web, "Second", "two").status_code == 303
    api.wait_for_jobs()
    smtp.wait_for(2)
    assert [sorted(m.envelope_to) for m in smtp.received] == [
        ["ada@example.org", "bo@example.org"]
    ] * 2
    assert "(account pending)" in smtp.received[0].body
    mine = web.get("/help/requests").text
    assert mine.index("Second") < mine.index("First")
    listed = admin.get("/admin/help").text
    assert listed.index("Second") < listed.index("First")


def test_bad_questions_are_refused_with_a_reason_and_nothing_stored(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    owner = make_account(api, "olga@example.org", name="Olga Owner")
    make_account(api, "ann@example.org")
    make_account(api, "ada@example.org", admin=True)
    secret = api.create_dandiset(owner, "Sealed", embargo="true")
    web = Browser(api)
    web.sign_in("ann@example.org")
    cases = [
        (("", "text"), "The subject is empty"),
        (("Subject", "   \n "), "The message is empty"),
        (("S" * (MAX_SUBJECT + 1), "text"), f"at most {MAX_SUBJECT}"),
        (("Subject", "m" * (MAX_MESSAGE + 1)), f"at most {MAX_MESSAGE}"),
        (("Subject", "text", "999999"), "There is no Dandiset 999999 that you can see"),
        (("Subject", "text", "12ab"), "is not a Dandiset identifier"),
        # An embargoed Dandiset one cannot read answers exactly as a missing one.
        (("Subject", "text", secret), f"There is no Dandiset {secret} that you can see"),
    ]
    for args, reason in cases:
        r = ask(web, *args)
        assert r.status_code == 400, (args, r.status_code)
        assert reason in text_of(r.text), (args, text_of(r.text)[:300])
        assert 'id="help-form"' in r.text
    kept = ask(web, "Kept subject", "Kept text", "000000")
    assert 'value="Kept subject"' in kept.text and "Kept text</textarea>" in kept.text
    assert "Sealed" not in kept.text
    assert stored(api) == 0
    # Its owner may ask about it, and the administrators' mail names it.
    owner_web = Browser(api)
    owner_web.sign_in("olga@example.org")
    assert ask(owner_web, "About my embargo", "When does it end?", secret).status_code == 303
    assert stored(api) == 1
    api.wait_for_jobs()
    [mail] = smtp.wait_for(1)
    assert f'{secret} "Sealed"' in mail.body


def test_who_may_use_the_helpdesk(make_api):
    api = make_api()
    make_account(api, "ann@example.org")
    make_account(api, "ada@example.org", admin=True)
    anonymous, user = Browser(api), Browser(api)
    user.sign_in("ann@example.org")
    page = anonymous.get("/help/")
    assert page.status_code == 200 and 'id="help-form"' not in page.text
    assert 'href="/login?next=/help/"' in page.text
    assert anonymous.get("/help/requests").headers["location"].startswith("/login")
    # Posting without a session: refused before anything is stored.
    r = anonymous.client.post("/help/", data={"subject": "x", "message": "y"})
    assert r.status_code == 403 and stored(api) == 0
    assert user.get("/admin/help").status_code == 403
    assert ask(user, "A question", "text").status_code == 303
    with api.archive.db.session() as session:
        request_id = session.scalar(select(HelpRequest.id))
    r = user.post(f"/admin/help/{request_id}", {"answer": "mine"}, form_page="/help/")
    assert r.status_code == 403
    with api.archive.db.session() as session:
        assert session.scalar(select(HelpRequest.answer)) is None
        # The question's mail is in the outbox (no SMTP server here: an .eml file).
        assert session.scalar(select(func.count(OutgoingMail.id))) == 1
    admin = Browser(api)
    admin.sign_in("ada@example.org")
    unknown = admin.post("/admin/help/999999", {"answer": "x"}, form_page="/admin/help")
    assert unknown.status_code == 404
    long = admin.post(
        f"/admin/help/{request_id}", {"answer": "a" * (MAX_ANSWER + 1)}, form_page="/admin/help"
    )
    assert long.status_code == 400 and f"at most {MAX_ANSWER}" in long.text
