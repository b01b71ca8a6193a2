"""Embargoes end on their end date: warnings 30 and 7 days ahead (in the outbox, once
each), and the periodic job lifts the embargo on the day; the clock is moved forward
by handing the job a ``now``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from dandi_archive.db.models import AuditEvent, EmbargoNotice
from dandi_archive.embargo.expiry import lift_ended_embargoes, warning_due
from dandi_archive.integrity.tasks import periodic_jobs

from ..helpers import ApiClient

SECRET = b"opens on its own " * 20


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def notices(api: ApiClient) -> list[tuple[str, date | None]]:
    with api.archive.db.session() as session:
        rows = session.scalars(select(EmbargoNotice).order_by(EmbargoNotice.id))
        return [(n.kind, n.about_date) for n in rows]


def test_warning_due() -> None:
    end = date(2030, 6, 30)
    assert warning_due(end, end - timedelta(days=31)) is None
    assert warning_due(end, end - timedelta(days=30)) == "embargo_ends_in_30_days"
    assert warning_due(end, end - timedelta(days=8)) == "embargo_ends_in_30_days"
    assert warning_due(end, end - timedelta(days=7)) == "embargo_ends_in_7_days"
    assert warning_due(end, end - timedelta(days=1)) == "embargo_ends_in_7_days"
    assert warning_due(end, end) is None


def test_embargo_lifts_itself_on_its_end_date(api: ApiClient) -> None:
    owner = api.make_user("owner@example.org", name="Olga Owner")
    today = datetime.now(UTC).date()
    end = today + timedelta(days=40)
    d = api.create_dandiset(owner, "Ends soon", embargo="true", embargo_end_date=end.isoformat())
    later = api.create_dandiset(owner, "Ends later", embargo="true")  # two years away
    asset = api.add_asset(owner, d, "data.bin", SECRET)
    api.make_bucket_public()
    api.wait_for_jobs()
    meta = api.get(f"/api/dandisets/{d}/versions/draft/", owner).json()
    assert meta["access"][0]["embargoedUntil"] == end.isoformat()

    assert lift_ended_embargoes(api.archive, at(today)).warned == []
    run = lift_ended_embargoes(api.archive, at(end - timedelta(days=30)))
    assert run.warned == [(d, "embargo_ends_in_30_days")] and run.lifted == []
    # Again the next day: warned already.
    assert lift_ended_embargoes(api.archive, at(end - timedelta(days=29))).warned == []
    # Through the job, as the schedule runs it (``now`` as ISO text).
    api.archive.jobs.submit("lift_ended_embargoes", now=at(end - timedelta(days=7)).isoformat())
    api.wait_for_jobs()
    assert notices(api) == [("embargo_ends_in_30_days", end), ("embargo_ends_in_7_days", end)]
    assert api.get(f"/api/dandisets/{d}/").status_code == 401  # still embargoed

    run = lift_ended_embargoes(api.archive, at(end))
    assert run.lifted == [d]
    api.wait_for_jobs()
    assert api.get(f"/api/dandisets/{d}/").json()["embargo_status"] == "OPEN"
    assert api.get(f"/api/dandisets/{later}/", owner).json()["embargo_status"] == "EMBARGOED"
    assert api.download(f"/api/assets/{asset['asset_id']}/download/").content == SECRET
    meta = api.get(f"/api/dandisets/{d}/versions/draft/").json()
    assert meta["access"][0]["status"] == "dandi:OpenAccess"
    assert notices(api)[-1] == ("embargo_lifted", end)
    with api.archive.db.session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "unembargo_dandiset"))
        assert event is not None and event.user_id is None  # nobody asked: the date came
    # Lifted once: a later run finds nothing to do.
    assert lift_ended_embargoes(api.archive, at(end + timedelta(days=1))).lifted == []


def test_unfinished_uploads_do_not_hold_an_ended_embargo(api: ApiClient) -> None:
    owner = api.make_user("owner@example.org", name="Olga Owner")
    end = datetime.now(UTC).date() + timedelta(days=3)
    d = api.create_dandiset(owner, "Ends", embargo="true", embargo_end_date=end.isoformat())
    digest = {"algorithm": "dandi:dandi-etag", "value": "0" * 32 + "-1"}
    r = api.post(
        "/api/uploads/initialize/", owner, json={"contentSize": 5, "digest": digest, "dandiset": d}
    )
    assert r.status_code == 200, r.text
    assert api.post(f"/api/dandisets/{d}/unembargo/", owner).status_code == 400  # an owner's own
    assert lift_ended_embargoes(api.archive, at(end + timedelta(days=2))).lifted == [d]
    api.wait_for_jobs()
    assert api.get(f"/api/dandisets/{d}/").json()["embargo_status"] == "OPEN"


def test_the_check_is_scheduled(api: ApiClient) -> None:
    schedule = periodic_jobs(api.archive.settings)
    assert schedule["lift_ended_embargoes"] == (
        api.archive.settings.embargo_check_interval_seconds,
        {},
    )
