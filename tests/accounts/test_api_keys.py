"""API keys and permissions: 401 without valid credentials, 403 when not allowed."""

from dandi_archive.db.models import UserStatus


def test_token_endpoint_with_and_without_trailing_slash(api):
    key = api.make_user()
    for path in ("/api/auth/token/", "/api/auth/token"):
        r = api.get(path, key)
        assert r.status_code == 200
        assert r.json() == key


def test_bad_or_missing_key_is_401(api):
    api.make_user()
    assert api.get("/api/auth/token/", "0" * 40).status_code == 401
    assert api.get("/api/auth/token/").status_code == 401
    r = api.get("/api/auth/token/", headers={"Authorization": "Bearer abc"})
    assert r.status_code == 401
    assert "token" in r.json()["detail"]


def test_users_me(api):
    key = api.make_user("me@example.org", name="Ada Lovelace")
    me = api.get("/api/users/me/", key).json()
    assert me == {
        "username": "ada-lovelace",  # from the name, never the address
        "name": "Ada Lovelace",
        "admin": False,
        "status": "APPROVED",
    }


def test_regenerating_the_key_revokes_the_old_one(api):
    old = api.make_user()
    new = api.post("/api/auth/token/", old).json()
    assert new != old
    assert api.get("/api/users/me/", old).status_code == 401
    assert api.get("/api/users/me/", new).status_code == 200


def test_unapproved_user_can_read_but_not_create(api):
    key = api.make_user("pending@example.org", status=UserStatus.PENDING)
    assert api.get("/api/dandisets/", key).status_code == 200
    r = api.post("/api/dandisets/", key, json={"name": "x", "metadata": {}})
    assert r.status_code == 403
    assert "approve" in r.json()["detail"]
    assert api.get("/api/auth/token/", key).status_code == 403


def test_only_owners_change_a_dandiset(api):
    owner = api.make_user("owner@example.org")
    other = api.make_user("other@example.org")
    dandiset = api.create_dandiset(owner)
    url = f"/api/dandisets/{dandiset}/versions/draft/"
    metadata = api.get(url).json()
    r = api.put(url, other, json={"name": "Hijacked", "metadata": metadata})
    assert r.status_code == 403
    assert api.put(url, json={"name": "Anon", "metadata": metadata}).status_code == 401
    assert api.get(url).json()["name"] == "Test Dandiset"
    assert api.delete(f"/api/dandisets/{dandiset}/", other).status_code == 403


def test_admin_may_change_any_dandiset(api):
    owner = api.make_user("owner@example.org")
    admin = api.make_user("admin@example.org", admin=True)
    dandiset = api.create_dandiset(owner)
    assert api.delete(f"/api/dandisets/{dandiset}/", admin).status_code == 204
