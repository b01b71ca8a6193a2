"""Sessions end on the server, and guessing is throttled.

A cookie saved before an event is replayed after it (from a fresh client, as a thief
would) and must no longer sign anyone in: sign-out, a new password, a new API key,
rejection by an administrator.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from dandi_archive.accounts import registration as accounts
from dandi_archive.accounts import users
from dandi_archive.db.models import UserStatus

from ..conftest import free_port
from ..web.helpers import PASSWORD, Browser, make_account

COOKIE = "dandi_session"


def saved_cookie(browser: Browser) -> str:
    value = browser.client.cookies.get(COOKIE)
    assert value, "no session cookie"
    return value


def replay(api, cookie: str) -> bool:
    """Whether the cookie still signs someone in (page and API read)."""
    thief = Browser(api)
    thief.client.cookies.set(COOKIE, cookie)
    page = thief.get("/account")
    me = thief.client.get("/api/users/me/")
    assert (page.status_code == 200) == (me.status_code == 200), (page, me.text)
    return page.status_code == 200


def signed_in(api, email: str) -> tuple[Browser, str]:
    browser = Browser(api)
    browser.sign_in(email)
    return browser, saved_cookie(browser)


def test_sign_out_ends_the_session_on_the_server(api):
    make_account(api, "jane@example.org")
    browser, cookie = signed_in(api, "jane@example.org")
    assert replay(api, cookie)
    browser.sign_out()
    assert not replay(api, cookie)


def test_new_password_ends_every_session(api):
    make_account(api, "jane@example.org")
    _, cookie = signed_in(api, "jane@example.org")
    with api.archive.db.session(write=True) as session:  # as `user set-password` does
        accounts.set_password(
            session, users.get_user_by_email(session, "jane@example.org"), "a new password!"
        )
    assert not replay(api, cookie)
    Browser(api).sign_in("jane@example.org", "a new password!")


def test_new_api_key_ends_the_other_sessions(api):
    key = make_account(api, "jane@example.org")
    here, here_cookie = signed_in(api, "jane@example.org")
    _, elsewhere = signed_in(api, "jane@example.org")
    r = here.post("/account/api-key", {}, form_page="/account")
    assert r.status_code == 303
    assert replay(api, here_cookie)  # the browser that asked stays signed in
    assert not replay(api, elsewhere)
    # Through the API (no browser asking): every session ends.
    new_key = here.client.get("/api/auth/token/").json()  # the cookie reads the key
    assert new_key != key
    assert api.post("/api/auth/token/", new_key).status_code == 200
    assert not replay(api, here_cookie)


def test_rejection_ends_sessions_and_refuses_sign_in(api):
    make_account(api, "admin@example.org", admin=True, name="Ada Admin")
    key = make_account(api, "jane@example.org")
    owned = api.create_dandiset(key, "Secret", embargo="true")
    jane, cookie = signed_in(api, "jane@example.org")
    assert jane.get(f"/dandiset/{owned}").status_code == 200
    admin = Browser(api)
    admin.sign_in("admin@example.org")
    with api.archive.db.session() as session:
        jane_id = users.get_user_by_email(session, "jane@example.org").id
    # Jane is approved: rejecting her asks for a confirmation first.
    asked = admin.post(f"/admin/users/{jane_id}", {"action": "reject"}, form_page="/admin/users")
    assert asked.status_code == 200 and replay(api, cookie)
    r = admin.post(
        f"/admin/users/{jane_id}",
        {"action": "reject", "confirm": "yes"},
        form_page="/admin/users",
    )
    assert r.status_code == 303
    assert not replay(api, cookie)
    assert jane.get(f"/dandiset/{owned}").headers["location"].startswith("/login")
    refused = jane.post("/login", {"email": "jane@example.org", "password": PASSWORD})
    assert refused.status_code == 400 and "not approved" in refused.text


def test_forged_or_unknown_session_token_is_anonymous(api):
    make_account(api, "jane@example.org")
    browser, _ = signed_in(api, "jane@example.org")
    assert not replay(api, "not-a-signed-cookie")
    browser.sign_out()
    assert browser.get("/account").status_code == 303


# -- throttling --------------------------------------------------------------------------


def wrong_sign_in(browser: Browser, email: str):
    return browser.post("/login", {"email": email, "password": "wrong password!"})


def test_failed_sign_ins_are_throttled_per_account(make_api):
    api = make_api(
        throttle_sign_in_per_account="2/minute", throttle_sign_in_per_address="50/minute"
    )
    make_account(api, "jane@example.org")
    make_account(api, "john@example.org", name="John Doe")
    guesser = Browser(api)
    assert [wrong_sign_in(guesser, "jane@example.org").status_code for _ in range(2)] == [400, 400]
    throttled = wrong_sign_in(guesser, "JANE@example.org")
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins" in throttled.text and "<form" in throttled.text
    # Even the right password waits: otherwise guessing would go on at full speed.
    right = guesser.post("/login", {"email": "jane@example.org", "password": PASSWORD})
    assert right.status_code == 429
    # Another account is not locked out by this.
    Browser(api).sign_in("john@example.org")


def test_failed_sign_ins_are_throttled_per_address(make_api):
    api = make_api(
        throttle_sign_in_per_account="50/minute", throttle_sign_in_per_address="3/minute"
    )
    guesser = Browser(api)
    codes = [wrong_sign_in(guesser, f"user{i}@example.org").status_code for i in range(4)]
    assert codes == [400, 400, 400, 429]


def test_unknown_api_keys_are_throttled(make_api):
    api = make_api(throttle_api_key_per_address="2/minute")
    key = api.make_user()
    codes = [api.get("/api/users/me/", "0" * 40).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    r = api.get("/api/dandisets/", "1" * 40)
    assert r.status_code == 429 and "invalid API key" in r.json()["detail"]
    assert int(r.headers["Retry-After"]) >= 1
    assert api.get("/api/users/me/", key).status_code == 200  # valid keys still work


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    """A Redis server of this test's own."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            probe = subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
            )
            if probe.stdout.strip() == "PONG":
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


def test_api_processes_count_together_in_redis(make_api, redis_url):
    """Two API processes of one instance (here two apps) share the count."""
    settings = {"throttle_storage_url": redis_url, "throttle_api_key_per_address": "3/minute"}
    first, second = make_api(**settings), make_api(**settings)
    assert first.get("/api/users/me/", "0" * 40).status_code == 401
    assert second.get("/api/users/me/", "0" * 40).status_code == 401
    assert first.get("/api/users/me/", "0" * 40).status_code == 401
    assert second.get("/api/users/me/", "0" * 40).status_code == 429


def test_redis_broker_is_the_default_throttle_storage():
    from dandi_archive.config import Settings

    assert Settings().throttle_storage == "memory://"
    assert Settings(broker_url="redis://r:6379/1").throttle_storage == "redis://r:6379/1"
    assert Settings(broker_url="amqp://q//").throttle_storage == "memory://"


def test_pending_account_status_shown_not_its_address(api):
    make_account(api, "pat@example.org", name="Pat Pending", status=UserStatus.PENDING)
    pat, _ = signed_in(api, "pat@example.org")
    assert pat.client.get("/api/users/me/").json()["username"] == "pat-pending"
