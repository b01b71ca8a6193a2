"""Creating, finding, listing and deleting Dandisets, and managing their owners."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Select, String, cast, delete, exists, func, select
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import (
    is_active,
    require_approved,
    require_owner,
    require_readable,
    visible_to_user,
)
from dandi_archive.audit import events as audit
from dandi_archive.dandisets import dois, folders, stars
from dandi_archive.dandisets import metadata as md
from dandi_archive.db.models import (
    Asset,
    Dandiset,
    DandisetOwner,
    EmbargoStatus,
    Folder,
    Upload,
    User,
    Version,
    VersionAsset,
    VersionStatus,
    Zarr,
)
from dandi_archive.db.text import like_escape
from dandi_archive.errors import (
    BadRequest,
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from dandi_archive.mail import notices
from dandi_archive.search import index as search_index

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

IDENTIFIER = re.compile(r"^(?:[A-Z][-A-Z]*:)?(\d{6})$")
ORDERINGS = ("id", "name", "modified", "size", "stars")


def parse_identifier(identifier: str) -> int:
    match = IDENTIFIER.match(str(identifier))
    if not match:
        raise NotFound(f"{identifier!r} is not a Dandiset identifier (six digits).")
    return int(match[1])


def get_dandiset(
    session: Session, identifier: str, *, lock: bool | Literal["change"] = False
) -> Dandiset:
    """The Dandiset; locked if asked: ``True`` to delete it or change who owns it,
    ``"change"`` to change what it holds (others may still add rows that refer to it).

    Every transaction that changes a Dandiset locks its row first (see
    :mod:`dandi_archive.db.locking`)."""
    mode: bool | dict[str, bool] = {"key_share": True} if lock == "change" else bool(lock)
    dandiset = session.get(Dandiset, parse_identifier(identifier), with_for_update=mode or None)
    if dandiset is None:
        raise NotFound(f"Dandiset {identifier} does not exist.")
    return dandiset


def get_readable_dandiset(session: Session, identifier: str, user: User | None) -> Dandiset:
    dandiset = get_dandiset(session, identifier)
    require_readable(session, dandiset, user)
    return dandiset


def draft_of(session: Session, dandiset: Dandiset, *, lock: bool = False) -> Version:
    query = select(Version).where(Version.dandiset_id == dandiset.id, Version.version == "draft")
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one()


# -- create ----------------------------------------------------------------------------


def default_embargo_end() -> date:
    """Where an embargo ends when no date is given: two years from today."""
    return datetime.now(UTC).date() + timedelta(days=730)


def create_dandiset(
    archive: Archive,
    session: Session,
    user: User | None,
    name: str,
    metadata: dict[str, Any],
    *,
    embargo: bool = False,
    embargo_end_date: date | None = None,
) -> Version:
    """A new Dandiset with its draft; returns the draft (``draft.dandiset`` is the
    Dandiset)."""
    user = require_approved(user)
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("name is required and must be a non-empty string.")
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be a JSON object.")
    requested_id = _requested_identifier(metadata, user)
    metadata = md.strip_version_metadata(metadata)
    # The archive publishes no address on its own: the owner adds the contact's e-mail
    # (dandischema wants one before publishing) knowing it will be public.
    metadata.setdefault("contributor", [md.default_contributor(_citation_name(user))])

    dandiset = Dandiset(id=requested_id) if requested_id else Dandiset()
    if embargo:
        today = datetime.now(UTC).date()
        dandiset.embargo_status = EmbargoStatus.EMBARGOED
        dandiset.embargo_end_date = embargo_end_date or default_embargo_end()
        if dandiset.embargo_end_date <= today:
            raise BadRequest("embargo_end_date must be in the future.")
    session.add(dandiset)
    session.flush()
    session.add(DandisetOwner(dandiset_id=dandiset.id, user_id=user.id))
    draft = Version(dandiset_id=dandiset.id, version="draft", name=name.strip(), metadata_={})
    draft.dandiset = dandiset
    draft.metadata_ = md.populate_version_metadata(archive, dandiset, draft, metadata)
    session.add(draft)
    session.flush()
    folders.create_root(session, draft.id)
    dois.mint_for_dandiset(archive, session, dandiset)
    search_index.index_dandiset(session, draft, new=True)
    audit.create_dandiset(session, dandiset.id, user, draft.name, embargo)
    archive.defer(session, "validate_version", version_id=draft.id)
    return draft


def _requested_identifier(metadata: dict[str, Any], user: User) -> int | None:
    identifier = metadata.get("identifier")
    if not identifier:
        return None
    if not user.is_admin:
        raise BadRequest("Only admins may choose a Dandiset's identifier.")
    match = IDENTIFIER.match(str(identifier))
    if not match:
        raise BadRequest(f"Invalid identifier {identifier!r}; use six digits, e.g. 000123.")
    return int(match[1])


def _citation_name(user: User) -> str:
    """'Last, First' as dandischema wants it, from the account's display name."""
    if "," in user.name:
        return user.name
    first, _, last = user.name.strip().rpartition(" ")
    if first and last:
        return f"{last}, {first}"
    return f"{user.name or user.username}, {user.name or user.username}"


# -- list ------------------------------------------------------------------------------


@dataclass
class DandisetQuery:
    user: User | None
    draft: bool = True
    empty: bool = True
    embargoed: bool = False
    mine: bool = False
    starred: bool = False
    search: str | None = None
    ordering: str | None = None


def _latest_version_id(dandiset_id: Any) -> Select:
    return (
        select(Version.id)
        .where(Version.dandiset_id == dandiset_id)
        .order_by(Version.created.desc(), Version.id.desc())
        .limit(1)
        .correlate(Dandiset)
        .scalar_subquery()
    )


def query_dandisets(session: Session, query: DandisetQuery) -> Select:
    """The filtered, ordered selection of Dandisets (not yet paginated)."""
    user = query.user
    stmt = select(Dandiset)
    if query.embargoed:
        if user is None:
            raise NotAuthenticated(
                "Authentication credentials must be provided to list embargoed Dandisets."
            )
        if not user.is_admin:
            stmt = stmt.where(visible_to_user(user.id))
    else:
        stmt = stmt.where(Dandiset.embargo_status == EmbargoStatus.OPEN)
    if query.mine:
        if user is None:
            raise NotAuthenticated("Authentication credentials must be provided for user=me.")
        stmt = stmt.where(
            exists().where(
                DandisetOwner.dandiset_id == Dandiset.id, DandisetOwner.user_id == user.id
            )
        )
    if not query.draft:
        stmt = stmt.where(
            exists().where(
                Version.dandiset_id == Dandiset.id,
                Version.version != "draft",
                Version.withdrawn.is_(None),
            )
        )
    if not query.empty:
        stmt = stmt.where(
            exists().where(
                Folder.version_id == _latest_version_id(Dandiset.id),
                Folder.path == "",
                Folder.file_count > 0,
            )
        )
    if query.search:
        stmt = stmt.where(*_search_terms(query.search))
    if query.starred:
        if user is None:
            raise NotAuthenticated("Must be authenticated to filter by starred Dandisets.")
        stmt = stmt.where(stars.starred_by(user.id))
        if not query.ordering:
            # Most recently starred first, as upstream.
            return stmt.order_by(stars.starred_at(user.id).desc(), Dandiset.id)
    return stmt.order_by(*_ordering(query.ordering))


def _search_terms(search: str) -> list[Any]:
    """Every word must appear in the metadata of some version (case-insensitive)."""
    terms = []
    for word in search.split():
        pattern = "%" + like_escape(word) + "%"
        terms.append(
            exists().where(
                Version.dandiset_id == Dandiset.id,
                cast(Version.metadata_, String).ilike(pattern, escape="\\"),
            )
        )
    return terms


def _ordering(ordering: str | None) -> list[Any]:
    if not ordering:
        return [Dandiset.id]
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    if field not in ORDERINGS:
        raise BadRequest(
            f"Unknown ordering {ordering!r}; use one of "
            + ", ".join(f"{f}, -{f}" for f in ORDERINGS)
            + "."
        )
    latest = _latest_version_id(Dandiset.id)
    key: Any
    if field == "id":
        key = Dandiset.id
    elif field == "name":
        key = select(Version.name).where(Version.id == latest).scalar_subquery()
    elif field == "modified":
        key = select(Version.modified).where(Version.id == latest).scalar_subquery()
    elif field == "stars":
        key = stars.stars_of_dandiset()
    else:
        key = (
            select(Folder.total_size)
            .where(Folder.version_id == latest, Folder.path == "")
            .scalar_subquery()
        )
    return [key.desc() if descending else key.asc(), Dandiset.id]


def versions_for_listing(
    session: Session, dandiset_ids: list[int]
) -> tuple[dict[int, Version], dict[int, Version]]:
    """Draft and most recent published version of each Dandiset, in two queries."""
    drafts = {
        v.dandiset_id: v
        for v in session.scalars(
            select(Version).where(Version.dandiset_id.in_(dandiset_ids), Version.version == "draft")
        )
    }
    newest = (
        select(func.max(Version.id))
        .where(
            Version.dandiset_id.in_(dandiset_ids),
            Version.version != "draft",
            Version.withdrawn.is_(None),  # a withdrawn version is never the most recent
        )
        .group_by(Version.dandiset_id)
    )
    published = {
        v.dandiset_id: v for v in session.scalars(select(Version).where(Version.id.in_(newest)))
    }
    return drafts, published


@dataclass
class OwnedDandiset:
    """One line of "My Dandisets": the draft's state and the newest published version."""

    identifier: str
    name: str
    embargo_status: str
    draft_status: str
    published: str | None  # the newest published version, if any
    file_count: int
    size: int
    modified: datetime


MAX_OWNED = 1000


def owned_dandisets(session: Session, user: User | None) -> list[OwnedDandiset]:
    """The Dandisets ``user`` owns, embargoed and empty ones included, the most recently
    modified first (at most ``MAX_OWNED``)."""
    if user is None:
        raise NotAuthenticated("Sign in to see your Dandisets.")
    owned = list(
        session.scalars(
            select(Dandiset)
            .join(DandisetOwner, DandisetOwner.dandiset_id == Dandiset.id)
            .join(Version, (Version.dandiset_id == Dandiset.id) & (Version.version == "draft"))
            .where(DandisetOwner.user_id == user.id)
            .order_by(Version.modified.desc(), Dandiset.id.desc())
            .limit(MAX_OWNED)
        )
    )
    drafts, published = versions_for_listing(session, [d.id for d in owned])
    totals = folders.version_totals(session, [v.id for v in drafts.values()])
    rows = []
    for dandiset in owned:
        draft = drafts[dandiset.id]
        newest = published.get(dandiset.id)
        count, size = totals[draft.id]
        rows.append(
            OwnedDandiset(
                identifier=dandiset.identifier,
                name=draft.name,
                embargo_status=dandiset.embargo_status.value,
                draft_status=draft.status.value,
                published=newest.version if newest else None,
                file_count=count,
                size=size,
                modified=draft.modified,
            )
        )
    return rows


# -- delete and owners -------------------------------------------------------------------


def delete_dandiset(archive: Archive, session: Session, user: User | None, identifier: str) -> None:
    dandiset = get_dandiset(session, identifier, lock=True)
    require_owner(session, dandiset, user)
    if session.scalar(
        select(exists().where(Version.dandiset_id == dandiset.id, Version.version != "draft"))
    ):
        raise PermissionDenied("Cannot delete a Dandiset with published versions.")
    draft = draft_of(session, dandiset)
    if draft.status == VersionStatus.PUBLISHING:
        raise Conflict("Cannot delete a Dandiset while it is being published.")
    for upload in session.scalars(select(Upload).where(Upload.dandiset_id == dandiset.id)):
        archive.store.abort_multipart_upload(upload.key, upload.multipart_id)
    asset_ids = select(VersionAsset.asset_id).where(VersionAsset.version_id == draft.id)
    # Assets that belong to no other version go with the Dandiset.
    orphans = select(Asset.id).where(
        Asset.id.in_(asset_ids),
        ~exists().where(VersionAsset.asset_id == Asset.id, VersionAsset.version_id != draft.id),
    )
    orphan_ids = list(session.scalars(orphans))
    # Zarr rows go with the Dandiset (foreign key cascade); their objects after commit.
    for zarr_id in session.scalars(select(Zarr.id).where(Zarr.dandiset_id == dandiset.id)):
        archive.defer(session, "delete_zarr_objects", zarr_id=str(zarr_id))
    audit.delete_dandiset(session, dandiset.id, user)
    session.delete(dandiset)
    session.flush()
    if orphan_ids:
        session.execute(delete(Asset).where(Asset.id.in_(orphan_ids)))


def owners(session: Session, dandiset: Dandiset) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(DandisetOwner, DandisetOwner.user_id == User.id)
            .where(DandisetOwner.dandiset_id == dandiset.id)
            .order_by(User.id)
        )
    )


def set_owners(
    archive: Archive, session: Session, user: User | None, identifier: str, usernames: list[Any]
) -> list[User]:
    """Replace the owners; each one added or removed hears of it by mail."""
    dandiset = get_dandiset(session, identifier, lock=True)
    require_owner(session, dandiset, user)
    if not isinstance(usernames, list) or not usernames:
        raise BadRequest('Give at least one owner as a list of {"username": ...} objects.')
    wanted: list[str] = []
    for entry in usernames:
        if not isinstance(entry, dict) or not isinstance(entry.get("username"), str):
            raise BadRequest("Each owner must be an object with a string 'username'.")
        wanted.append(entry["username"])
    found = {u.username: u for u in session.scalars(select(User).where(User.username.in_(wanted)))}
    missing = [name for name in wanted if name not in found]
    if missing:
        raise BadRequest(f"No such user: {', '.join(missing)}.")
    before = owners(session, dandiset)
    session.execute(delete(DandisetOwner).where(DandisetOwner.dandiset_id == dandiset.id))
    for owner in {u.id: u for u in found.values()}.values():
        session.add(DandisetOwner(dandiset_id=dandiset.id, user_id=owner.id))
    dandiset.modified = datetime.now(UTC)
    session.flush()
    after = owners(session, dandiset)
    audit.change_owners(session, dandiset.id, user, before, after)
    before_ids, after_ids = {u.id for u in before}, {u.id for u in after}
    notices.owners_changed(
        archive,
        session,
        dandiset,
        draft_of(session, dandiset).name,
        added=[u for u in after if u.id not in before_ids and is_active(u)],
        removed=[u for u in before if u.id not in after_ids and is_active(u)],
        by=user,
    )
    return after
