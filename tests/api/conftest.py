"""Fixtures shared by the API tests: an owner and a Dandiset of theirs."""

import pytest


@pytest.fixture
def owner(api):
    return api.make_user()


@pytest.fixture
def dandiset(api, owner):
    return api.create_dandiset(owner)
