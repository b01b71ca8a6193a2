"""DOIs: minted for every published version, plus a concept DOI per Dandiset that
always resolves to its newest version.

A DOI is ``{prefix}/{instance}.{NNNNNN}/{version}`` (the concept DOI has no version
part), with the prefix from dandischema's instance configuration (``DANDI_DOI_PREFIX``).
Without a prefix nothing is minted. With a prefix but no DataCite account configured,
DOIs are *reserved*: written into the metadata, not registered; the version info says
so. With an account, the ``register_dois`` job sends them to DataCite: the concept DOI
as a draft when the Dandiset is created, then version and concept DOIs as findable
records when a version is published.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dandischema.conf import get_instance_config
from dandischema.datacite import to_datacite
from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.dandisets.datacite import DataCiteClient, DataCiteError
from dandi_archive.db.models import Dandiset, Doi, DoiState, Version

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)


def _base(dandiset: Dandiset) -> str | None:
    config = get_instance_config()
    if not config.doi_prefix:
        return None
    return f"{config.doi_prefix}/{config.instance_name.lower()}.{dandiset.identifier}"


def version_doi(dandiset: Dandiset, version: str) -> str | None:
    base = _base(dandiset)
    return f"{base}/{version}" if base else None


def concept_doi(dandiset: Dandiset) -> str | None:
    return _base(dandiset)


def _initial_state(archive: Archive) -> DoiState:
    return DoiState.PENDING if archive.settings.datacite_configured else DoiState.RESERVED


def mint_for_dandiset(archive: Archive, session: Session, dandiset: Dandiset) -> None:
    """Reserve the concept DOI of a new Dandiset (a DataCite draft once registered)."""
    doi = concept_doi(dandiset)
    if doi is None:
        return
    session.add(
        Doi(doi=doi, dandiset_id=dandiset.id, state=_initial_state(archive), target=DoiState.DRAFT)
    )
    archive.defer(session, "register_dois", dandiset_id=dandiset.id)


def mint_for_version(
    archive: Archive, session: Session, dandiset: Dandiset, version: Version
) -> None:
    """The version's DOI, and the concept DOI moved on to this newest version."""
    doi = version_doi(dandiset, version.version)
    if doi is None:
        return
    state = _initial_state(archive)
    session.add(
        Doi(
            doi=doi,
            dandiset_id=dandiset.id,
            version_id=version.id,
            state=state,
            target=DoiState.FINDABLE,
        )
    )
    concept = session.get(Doi, concept_doi(dandiset))
    if concept is None:
        concept = Doi(doi=concept_doi(dandiset), dandiset_id=dandiset.id, state=state)
        session.add(concept)
    concept.state, concept.target = state, DoiState.FINDABLE
    concept.updated = datetime.now(UTC)


def withdraw_version(archive: Archive, session: Session, version: Version) -> None:
    """The DOIs of a version being withdrawn (in the withdrawal's transaction).

    A findable DOI cannot be deleted, so it is hidden (DataCite's "registered" state: it
    still resolves, to the tombstone). One that never became findable is deleted at
    DataCite if it might be there, and is otherwise simply never sent. The concept DOI
    moves back to the newest remaining version, or is hidden when none remains.
    """
    doi = session.scalar(select(Doi).where(Doi.version_id == version.id).with_for_update())
    now = datetime.now(UTC)
    if doi is not None:
        if doi.state in (DoiState.FINDABLE, DoiState.REGISTERED):
            doi.state, doi.target = DoiState.PENDING, DoiState.REGISTERED
        elif doi.state in (DoiState.DRAFT, DoiState.FAILED):
            doi.state, doi.target = DoiState.PENDING, DoiState.DELETED
        else:  # reserved, or pending and never sent: nothing exists at DataCite
            doi.state = doi.target = DoiState.DELETED
        doi.message, doi.updated = None, now
    name = concept_doi(version.dandiset)
    concept = session.get(Doi, name, with_for_update=True) if name else None
    if (
        concept is not None
        and concept.state != DoiState.RESERVED
        and concept.target in (DoiState.FINDABLE, DoiState.REGISTERED)
    ):
        remaining = session.scalar(
            select(Version.id)
            .where(
                Version.dandiset_id == version.dandiset_id,
                Version.version != "draft",
                Version.withdrawn.is_(None),
            )
            .limit(1)
        )
        concept.target = DoiState.FINDABLE if remaining else DoiState.REGISTERED
        concept.state, concept.message, concept.updated = DoiState.PENDING, None, now
    if session.scalar(
        select(Doi.doi)
        .where(Doi.dandiset_id == version.dandiset_id, Doi.state == DoiState.PENDING)
        .limit(1)
    ):
        archive.defer(session, "register_dois", dandiset_id=version.dandiset_id)


def datacite_attributes(metadata: dict[str, Any], *, concept: str | None = None) -> dict[str, Any]:
    """DataCite attributes of a published version, or of its concept DOI."""
    attributes = to_datacite(metadata, validate=True, publish=True)["data"]["attributes"]
    if concept is None:
        return attributes
    attributes.pop("version", None)
    attributes.setdefault("relatedIdentifiers", []).append(
        {
            "relatedIdentifier": metadata["doi"],
            "relatedIdentifierType": "DOI",
            "relationType": "HasVersion",
        }
    )
    return attributes


def register(archive: Archive, dandiset_id: int) -> None:
    """Send the Dandiset's unregistered DOIs to DataCite (the ``register_dois`` job)."""
    settings = archive.settings
    if not settings.datacite_configured:
        return
    client = DataCiteClient(
        settings.datacite_api_url or "",
        settings.datacite_username or "",
        settings.datacite_password or "",
        attempts=settings.datacite_attempts,
    )
    try:
        with archive.db.session(write=True) as session:
            waiting = session.scalars(
                select(Doi)
                .where(
                    Doi.dandiset_id == dandiset_id,
                    Doi.state.in_([DoiState.PENDING, DoiState.FAILED]),
                )
                .order_by(Doi.version_id.is_(None), Doi.doi)
            )
            for doi in waiting:
                _register_one(session, client, doi)
    finally:
        client.close()


def _register_one(session: Session, client: DataCiteClient, doi: Doi) -> None:
    try:
        if doi.target == DoiState.REGISTERED:
            client.hide_doi(doi.doi)
        elif doi.target == DoiState.DELETED:
            client.delete_doi(doi.doi)
        else:
            client.put_doi(doi.doi, _attributes_for(session, doi))
    except (DataCiteError, ValueError) as exc:
        doi.state, doi.message = DoiState.FAILED, str(exc)
        log.error("DOI %s not registered: %s", doi.doi, exc)
    else:
        doi.state, doi.message = doi.target, None
    doi.updated = datetime.now(UTC)


def _attributes_for(session: Session, doi: Doi) -> dict[str, Any]:
    if doi.target == DoiState.DRAFT:
        return {}  # a draft DOI needs nothing but its name
    if doi.version_id is not None:
        return datacite_attributes(session.get(Version, doi.version_id).metadata_)
    newest = session.scalars(
        select(Version)
        .where(
            Version.dandiset_id == doi.dandiset_id,
            Version.version != "draft",
            Version.withdrawn.is_(None),
        )
        .order_by(Version.created.desc())
        .limit(1)
    ).one()
    return datacite_attributes(newest.metadata_, concept=doi.doi)


def describe(session: Session, version: Version) -> dict[str, Any] | None:
    """What the version info says about the version's DOI."""
    doi = session.scalar(select(Doi).where(Doi.version_id == version.id))
    if doi is None:
        return None
    notes = {
        DoiState.RESERVED: "reserved: no DataCite account is configured, so it is not registered",
        DoiState.PENDING: "being registered at DataCite",
        DoiState.DRAFT: "registered at DataCite as a draft",
        DoiState.FINDABLE: "registered at DataCite and findable",
        DoiState.FAILED: f"registration failed, will be retried: {doi.message}",
        DoiState.REGISTERED: "version withdrawn: registered at DataCite, no longer findable",
        DoiState.DELETED: "version withdrawn before the DOI became findable: not registered",
    }
    if doi.state == DoiState.PENDING and doi.target == DoiState.REGISTERED:
        return {
            "doi": doi.doi,
            "state": doi.state.value,
            "message": "version withdrawn: "
            "being moved to the registered (not findable) state at DataCite",
        }
    return {"doi": doi.doi, "state": doi.state.value, "message": notes[doi.state]}
