"""``GET /api/users/search/?username=`` as upstream: approved callers find approved
accounts by username, name or GitHub login (any case, literally), first joined first,
at most ten; an empty query finds nobody."""

from __future__ import annotations

from datetime import timedelta

from dandi_archive.accounts import users
from dandi_archive.db.models import ExternalAccount, UserStatus, utcnow


def add(
    api,
    email: str,
    name: str,
    *,
    login: str | None = None,
    status=UserStatus.APPROVED,
    age: int = 0,
) -> None:
    with api.archive.db.session(write=True) as session:
        user = users.create_user(session, email, name=name, status=status)
        user.created = utcnow() - timedelta(days=age)
        if login:
            session.add(
                ExternalAccount(provider="github", subject=email, user_id=user.id, login=login)
            )


def found(api, key: str, query: str) -> list[str]:
    r = api.get("/api/users/search/", key, params={"username": query})
    assert r.status_code == 200, r.text
    return [u["username"] for u in r.json()]


def test_user_search(api):
    key = api.make_user("me@example.org", name="Me Myself")
    add(api, "a@example.org", "Odysseus Bar", age=3)
    add(api, "b@example.org", "Penelope", login="odysseus-fan", age=2)  # by GitHub login
    add(api, "c@example.org", "Odysseus Waiting", status=UserStatus.PENDING, age=1)
    add(api, "d@example.org", "Odysseus Gone", status=UserStatus.REJECTED, age=1)
    add(api, "e@example.org", "Telemachus", login="tele", age=1)
    assert found(api, key, "ODYSSEUS") == ["odysseus-bar", "penelope"]  # oldest first
    assert found(api, key, "telemachus") == ["telemachus"]  # by name or username
    assert found(api, key, "") == [] and found(api, key, "   ") == []
    assert found(api, key, "%") == [] and found(api, key, "_") == []  # literally
    one = api.get("/api/users/search/", key, params={"username": "penelope"}).json()
    assert one == [
        {"username": "penelope", "name": "Penelope", "admin": False, "status": "APPROVED"}
    ]


def test_at_most_ten_and_only_for_approved_callers(api):
    key = api.make_user("me@example.org", name="Me Myself")
    for n in range(12):
        add(api, f"o{n}@example.org", f"Odysseus {n:02}", age=20 - n)
    assert found(api, key, "odysseus") == [f"odysseus-{n:02}" for n in range(10)]
    pending = api.make_user("p@example.org", name="Pending", status=UserStatus.PENDING)
    assert api.get("/api/users/search/", pending, params={"username": "o"}).status_code == 403
    assert api.get("/api/users/search/", params={"username": "o"}).status_code == 401
