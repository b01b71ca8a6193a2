"""The archive at http://localhost (loopback: authlib's rule for plain http)."""

from __future__ import annotations

import pytest

from .helpers import ISSUER


@pytest.fixture
def api(make_api):
    return make_api(base_url=ISSUER)
