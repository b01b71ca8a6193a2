"""Stars: users bookmark Dandisets, and everyone sees how many stars each one has.

As upstream: only approved accounts star (a change, like any other), only Dandisets
they may read (an embargoed one: its owners and admins), and starring twice or
unstarring a Dandiset never starred changes nothing. A star does not change the
Dandiset, so its ``modified`` stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, exists, func, select
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import require_approved, require_readable, visible_to_user

# A module reference: dandisets.dandisets uses this module's SQL for its listing.
from dandi_archive.dandisets import dandisets
from dandi_archive.db.models import Dandiset, DandisetStar, User
from dandi_archive.db.upsert import dialect_insert
from dandi_archive.errors import NotAuthenticated

MAX_STARRED = 500  # "My Dandisets" lists at most this many, the latest starred first


@dataclass(frozen=True)
class StarInfo:
    count: int = 0
    starred: bool = False


def star(session: Session, user: User | None, identifier: str) -> int:
    """Star the Dandiset for the caller; the number of stars it now has."""
    user, dandiset = _starrable(session, user, identifier)
    # ON CONFLICT: starring twice, even by two requests at once, leaves one star.
    session.execute(
        dialect_insert(session, DandisetStar)
        .values(user_id=user.id, dandiset_id=dandiset.id)
        .on_conflict_do_nothing(index_elements=["user_id", "dandiset_id"])
    )
    return star_count(session, dandiset.id)


def unstar(session: Session, user: User | None, identifier: str) -> int:
    """Remove the caller's star, if any; the number of stars the Dandiset now has."""
    user, dandiset = _starrable(session, user, identifier)
    session.execute(
        delete(DandisetStar).where(
            DandisetStar.user_id == user.id, DandisetStar.dandiset_id == dandiset.id
        )
    )
    return star_count(session, dandiset.id)


def _starrable(session: Session, user: User | None, identifier: str) -> tuple[User, Dandiset]:
    # Account first (401/403 before 404), as upstream's permission class runs first.
    user = require_approved(user)
    dandiset = dandisets.get_dandiset(session, identifier)
    require_readable(session, dandiset, user)
    return user, dandiset


def star_count(session: Session, dandiset_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(DandisetStar)
            .where(DandisetStar.dandiset_id == dandiset_id)
        )
        or 0
    )


def star_infos(session: Session, dandiset_ids: list[int], user: User | None) -> dict[int, StarInfo]:
    """Stars of each Dandiset and whether the caller starred it: one grouped query,
    however many Dandisets a page holds."""
    if not dandiset_ids:
        return {}
    mine = DandisetStar.user_id == (user.id if user is not None else None)
    rows = session.execute(
        select(
            DandisetStar.dandiset_id,
            func.count(),
            func.coalesce(func.sum(case((mine, 1), else_=0)), 0),
        )
        .where(DandisetStar.dandiset_id.in_(dandiset_ids))
        .group_by(DandisetStar.dandiset_id)
    )
    infos = {i: StarInfo(count=0, starred=False) for i in dandiset_ids}
    for dandiset_id, count, starred in rows:
        infos[dandiset_id] = StarInfo(count=count, starred=starred > 0)
    return infos


@dataclass(frozen=True)
class StarredDandiset:
    """One line of the "Starred" list of "My Dandisets"."""

    identifier: str
    name: str  # of the newest published version, else of the draft
    published: str | None
    embargo_status: str
    stars: int
    starred: datetime


def starred_dandisets(session: Session, user: User | None) -> list[StarredDandiset]:
    """The Dandisets ``user`` starred and may still read, the latest starred first."""
    if user is None:
        raise NotAuthenticated("Sign in to see the Dandisets you starred.")
    query = (
        select(Dandiset, DandisetStar.created)
        .join(DandisetStar, DandisetStar.dandiset_id == Dandiset.id)
        .where(DandisetStar.user_id == user.id)
        .order_by(DandisetStar.created.desc(), Dandiset.id.desc())
        .limit(MAX_STARRED)
    )
    if not user.is_admin:  # a star outlives access: a reader removed stops seeing it
        query = query.where(visible_to_user(user.id))
    rows = list(session.execute(query))
    ids = [d.id for d, _ in rows]
    drafts, published = dandisets.versions_for_listing(session, ids)
    counts = star_infos(session, ids, None)
    result = []
    for dandiset, starred in rows:
        newest = published.get(dandiset.id)
        result.append(
            StarredDandiset(
                identifier=dandiset.identifier,
                name=(newest or drafts[dandiset.id]).name,
                published=newest.version if newest else None,
                embargo_status=dandiset.embargo_status.value,
                stars=counts[dandiset.id].count,
                starred=starred,
            )
        )
    return result


# -- listing: the ``starred`` filter and ``ordering=stars`` --------------------------------


def starred_by(user_id: Any) -> ColumnElement[bool]:
    """SQL: the Dandiset (of the enclosing query) has a star of this user."""
    return exists().where(DandisetStar.dandiset_id == Dandiset.id, DandisetStar.user_id == user_id)


def starred_at(user_id: Any) -> Any:
    """SQL: when this user starred the Dandiset (most recent first, as upstream lists
    someone's starred Dandisets when no other ordering is asked for)."""
    return (
        select(DandisetStar.created)
        .where(DandisetStar.dandiset_id == Dandiset.id, DandisetStar.user_id == user_id)
        .correlate(Dandiset)
        .scalar_subquery()
    )


def stars_of_dandiset() -> Any:
    """SQL: the number of stars of the Dandiset (of the enclosing query)."""
    return (
        select(func.count())
        .select_from(DandisetStar)
        .where(DandisetStar.dandiset_id == Dandiset.id)
        .correlate(Dandiset)
        .scalar_subquery()
    )
