"""Embargo mails, received by a real SMTP server: owners hear of an access request (with
the requester's message and the page to answer it), the requester hears the answer,
and owners are warned before an embargo ends on its own."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dandi_archive.embargo.expiry import lift_ended_embargoes

from .conftest import smtp_settings


def test_access_requests_and_answers_are_mailed(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    owner = api.make_user("owner@example.org", name="Olga Owner")
    asker = api.make_user("asker@example.org", name="Ann Asker")
    d = api.create_dandiset(owner, "Under review", embargo="true")
    url = f"/api/dandisets/{d}/access-requests/"
    request = api.post(url, asker, json={"message": "I review this for Journal X."}).json()
    api.post(url, asker, json={"message": "again"})  # pending already: no second mail
    api.wait_for_jobs()
    smtp.wait_for(1)
    [asked] = smtp.to("owner@example.org")
    assert asked.subject == f"Ann Asker asks to read Dandiset {d}"
    assert "asker@example.org" in asked.body and "I review this for Journal X." in asked.body
    assert f"http://testserver/dandiset/{d}/access" in asked.links

    r = api.post(f"{url}{request['id']}/accept/", owner)
    assert r.status_code == 200, r.text
    api.wait_for_jobs()
    smtp.wait_for(2)
    [answer] = smtp.to("asker@example.org")
    assert answer.subject == f"You can now read Dandiset {d}"
    assert f"http://testserver/dandiset/{d}" in answer.links
    assert len(smtp.received) == 2


def test_a_declined_request_is_mailed_and_a_refused_one_is_not(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    owner = api.make_user("owner@example.org")
    asker = api.make_user("asker@example.org")
    d = api.create_dandiset(owner, "Under review", embargo="true")
    public = api.create_dandiset(owner, "Open")
    assert api.post(f"/api/dandisets/{public}/access-requests/", asker).status_code == 400
    request = api.post(f"/api/dandisets/{d}/access-requests/", asker).json()
    # Only owners answer: a refused answer mails nobody.
    other = f"/api/dandisets/{d}/access-requests/{request['id']}/decline/"
    assert api.post(other, asker).status_code == 403
    assert api.post(other, owner).status_code == 200
    api.wait_for_jobs()
    smtp.wait_for(2)
    assert [m.subject for m in smtp.to("asker@example.org")] == [
        f"Your request to read Dandiset {d} was declined"
    ]
    assert len(smtp.received) == 2


def test_owners_are_warned_before_an_embargo_ends(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    owner = api.make_user("owner@example.org", name="Olga Owner")
    end = datetime.now(UTC).date() + timedelta(days=40)
    d = api.create_dandiset(owner, "Ends", embargo="true", embargo_end_date=end.isoformat())
    for days in (30, 29, 7):  # the day after a warning warns no more
        lift_ended_embargoes(
            api.archive, datetime.combine(end - timedelta(days=days), time(12), UTC)
        )
    api.wait_for_jobs()
    smtp.wait_for(2)
    subjects = [m.subject for m in smtp.to("owner@example.org")]
    assert subjects == [f"The embargo of Dandiset {d} ends on {end.isoformat()}"] * 2
    assert f"http://testserver/dandiset/{d}/access" in smtp.received[0].links
