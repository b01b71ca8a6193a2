"""Stars: upstream's ``POST/DELETE /api/dandisets/{id}/star/``, the counts and
``is_starred`` in every Dandiset answer, ``?starred=true`` and ``ordering=stars``."""

import pytest

from dandi_archive.db.models import UserStatus


def star(api, key, dandiset, method="post"):
    return getattr(api, method)(f"/api/dandisets/{dandiset}/star/", key)


def listed(api, key=None, **params):
    r = api.get("/api/dandisets/", key, params=params)
    assert r.status_code == 200, r.text
    return [(d["identifier"], d["star_count"], d["is_starred"]) for d in r.json()["results"]]


def test_star_and_unstar_answer_the_count(api):
    owner = api.make_user()
    fan = api.make_user("fan@example.org")
    dandiset = api.create_dandiset(owner)
    modified = api.get(f"/api/dandisets/{dandiset}/").json()["modified"]

    r = star(api, fan, dandiset)
    assert r.status_code == 200
    assert r.json() == {"count": 1}
    assert star(api, owner, dandiset).json() == {"count": 2}
    # Starring twice changes nothing.
    assert star(api, fan, dandiset).json() == {"count": 2}

    detail = api.get(f"/api/dandisets/{dandiset}/", fan).json()
    assert (detail["star_count"], detail["is_starred"]) == (2, True)
    anonymous = api.get(f"/api/dandisets/{dandiset}/").json()
    assert (anonymous["star_count"], anonymous["is_starred"]) == (2, False)
    assert anonymous["modified"] == modified  # a star is not a change of the Dandiset

    assert star(api, fan, dandiset, "delete").json() == {"count": 1}
    # Unstarring what is not starred changes nothing either.
    assert star(api, fan, dandiset, "delete").json() == {"count": 1}
    detail = api.get(f"/api/dandisets/{dandiset}/", fan).json()
    assert (detail["star_count"], detail["is_starred"]) == (1, False)


def test_stars_in_versions_and_listing(api):
    owner = api.make_user()
    fan = api.make_user("fan@example.org")
    first = api.create_dandiset(owner, name="First")
    second = api.create_dandiset(owner, name="Second")
    star(api, fan, second)
    star(api, owner, second)
    star(api, fan, first)

    versions = api.get(f"/api/dandisets/{second}/versions/", fan).json()["results"]
    assert versions[0]["dandiset"]["star_count"] == 2
    assert versions[0]["dandiset"]["is_starred"] is True
    info = api.get(f"/api/dandisets/{first}/versions/draft/info/", owner).json()
    assert (info["dandiset"]["star_count"], info["dandiset"]["is_starred"]) == (1, False)

    assert listed(api, fan) == [(first, 1, True), (second, 2, True)]
    assert listed(api, owner) == [(first, 1, False), (second, 2, True)]
    assert listed(api) == [(first, 1, False), (second, 2, False)]


def test_ordering_by_stars(api):
    owner = api.make_user()
    fans = [api.make_user(f"fan{i}@example.org") for i in range(3)]
    none, one, three = (api.create_dandiset(owner, name=n) for n in ("none", "one", "three"))
    star(api, fans[0], one)
    for fan in fans:
        star(api, fan, three)

    assert [d for d, _, _ in listed(api, ordering="stars")] == [none, one, three]
    assert [d for d, _, _ in listed(api, ordering="-stars")] == [three, one, none]


def test_starred_filter(api):
    owner = api.make_user()
    fan = api.make_user("fan@example.org")
    first, second, third = (api.create_dandiset(owner, name=n) for n in ("a", "b", "c"))
    star(api, fan, third)
    star(api, fan, first)
    star(api, owner, second)

    # Most recently starred first, unless another ordering is asked for.
    assert [d for d, _, _ in listed(api, fan, starred="true")] == [first, third]
    assert [d for d, _, _ in listed(api, fan, starred="true", ordering="id")] == [first, third]
    assert [d for d, _, _ in listed(api, owner, starred="true")] == [second]
    assert len(listed(api, fan, starred="false")) == 3
    r = api.get("/api/dandisets/", fan, params={"starred": "true", "search": "nothing"})
    assert r.json()["count"] == 0


def test_starred_filter_needs_a_sign_in(api):
    r = api.get("/api/dandisets/", params={"starred": "true"})
    assert r.status_code == 401
    assert "starred" in r.json()["detail"]


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_starred_filter_must_be_a_boolean(api, value):
    r = api.get("/api/dandisets/", params={"starred": value})
    assert r.status_code in (400, 422)
    assert "detail" in r.json()


def test_unknown_ordering_names_stars(api):
    r = api.get("/api/dandisets/", params={"ordering": "popularity"})
    assert r.status_code == 400
    assert "stars" in r.json()["detail"]


@pytest.mark.parametrize("method", ["post", "delete"])
def test_anonymous_may_not_star(api, method):
    owner = api.make_user()
    dandiset = api.create_dandiset(owner)
    r = star(api, None, dandiset, method)
    assert r.status_code == 401
    assert "detail" in r.json()


@pytest.mark.parametrize("method", ["post", "delete"])
@pytest.mark.parametrize("identifier", ["999999", "12345", "abc"])
def test_unknown_dandiset(api, method, identifier):
    key = api.make_user()
    r = star(api, key, identifier, method)
    assert r.status_code == 404
    assert "detail" in r.json()


def test_pending_account_may_not_star(api):
    owner = api.make_user()
    pending = api.make_user("new@example.org", status=UserStatus.PENDING)
    dandiset = api.create_dandiset(owner)
    r = star(api, pending, dandiset)
    assert r.status_code == 403
    assert "approve" in r.json()["detail"]
    assert api.get(f"/api/dandisets/{dandiset}/").json()["star_count"] == 0


def test_embargoed_only_for_those_who_may_read_it(api):
    owner = api.make_user()
    stranger = api.make_user("stranger@example.org")
    admin = api.make_user("admin@example.org", admin=True)
    dandiset = api.create_dandiset(owner, embargo="true")

    assert star(api, None, dandiset).status_code == 401
    r = star(api, stranger, dandiset)
    assert r.status_code == 403
    assert "embargoed" in r.json()["detail"]
    assert star(api, owner, dandiset).json() == {"count": 1}
    assert star(api, admin, dandiset).json() == {"count": 2}
    # The stranger's listing of starred Dandisets holds nothing it may not read.
    assert listed(api, stranger, starred="true", embargoed="true") == []
    assert listed(api, owner, starred="true", embargoed="true") == [(dandiset, 2, True)]


def test_stars_go_with_the_dandiset(api):
    owner = api.make_user()
    dandiset = api.create_dandiset(owner)
    star(api, owner, dandiset)
    assert api.delete(f"/api/dandisets/{dandiset}/", owner).status_code == 204
    assert star(api, owner, dandiset).status_code == 404
    assert listed(api, owner, starred="true") == []
