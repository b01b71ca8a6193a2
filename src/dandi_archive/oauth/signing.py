"""The RSA key that signs ID tokens (RS256), and the JWKS that publishes it.

Made once, by whichever process needs it first, and kept in the database, so that every
API process signs with the same key and the JWKS they serve agree. Two processes making
it at the same moment both insert row 1; one insert wins, and both use the winner.
"""

from __future__ import annotations

from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.db.models import OAuthSigningKey
from dandi_archive.db.upsert import dialect_insert
from dandi_archive.instance import Archive

ALGORITHM = "RS256"
KEY_ID = 1  # the row of the key in use


def signing_key(session: Session) -> RSAKey:
    """The key in use, made now if there is none yet (``session`` must be able to write)."""
    row = session.get(OAuthSigningKey, KEY_ID)
    if row is None:
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
        session.execute(
            dialect_insert(session, OAuthSigningKey)
            .values(id=KEY_ID, kid=key.kid, private_jwk=key.as_dict(private=True))
            .on_conflict_do_nothing()
        )
        row = session.get(OAuthSigningKey, KEY_ID, populate_existing=True)
        assert row is not None
    return RSAKey.import_key(row.private_jwk)


def jwks(archive: Archive) -> dict[str, Any]:
    """The public keys, as ``jwks_uri`` serves them (making the key if it is the first
    time anyone asks, in a transaction of its own)."""
    with archive.db.session() as session:
        rows = list(session.scalars(select(OAuthSigningKey).order_by(OAuthSigningKey.id)))
    if not rows:
        with archive.db.session(write=True) as session:
            signing_key(session)
            rows = list(session.scalars(select(OAuthSigningKey).order_by(OAuthSigningKey.id)))
    return {"keys": [RSAKey.import_key(row.private_jwk).as_dict(private=False) for row in rows]}
