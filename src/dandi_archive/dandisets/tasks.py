"""Background jobs of Dandisets: validating a draft (with its assetsSummary) and
registering DOIs at DataCite."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dandi_archive.containers import software as container_software
from dandi_archive.dandisets import dois, summary
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets.versions import queue_validation
from dandi_archive.db.models import Version, VersionStatus
from dandi_archive.standards import findings as standard_findings
from dandi_archive.tasks.registry import job

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


@job
def validate_version(archive: Archive, version_id: int) -> None:
    """Pending -> Validating -> Valid/Invalid for a draft's own metadata, with the
    assetsSummary of its valid assets.

    The verdict is recorded only if nothing changed while it was reached; if something
    did, the draft is Pending again and this run queues the next (changes made while a
    run is under way queue none themselves: see ``versions.queue_validation``).
    """
    with archive.db.session(write=True) as session:
        version = session.get(Version, version_id, with_for_update=True)
        if version is None or not version.is_draft or version.status != VersionStatus.PENDING:
            return
        version.status = VersionStatus.VALIDATING
        revision, metadata = version.revision, dict(version.metadata_)
        # Container images among its assets are linked as software (containers/).
        linked = container_software.with_software(
            session, version_id, metadata, archive.settings.api_url
        )
    errors = md.validate_version_metadata(linked or metadata)
    with archive.db.session() as session:
        version = session.get(Version, version_id)
        assets_summary = summary.summarize(session, version) if version else None
        # What data standards' validators found of the dataset as a whole (BIDS), as
        # of their last run; a run that changes it queues ``revalidate_draft``.
        errors += standard_findings.dataset_findings(session, version_id)
    with archive.db.session(write=True) as session:
        version = session.get(Version, version_id, with_for_update=True)
        if version is None:
            return
        if version.status != VersionStatus.VALIDATING or version.revision != revision:
            if version.status == VersionStatus.PENDING:
                archive.defer(session, "validate_version", version_id=version_id)
            return
        version.metadata_ = {**(linked or version.metadata_), "assetsSummary": assets_summary}
        version.status = VersionStatus.INVALID if errors else VersionStatus.VALID
        version.validation_errors = errors
        archive.defer(session, "write_manifests", version_id=version_id)


# A draft whose verdict is fixed until it changes (or is being published) is left alone.
_SETTLED = (VersionStatus.PUBLISHING, VersionStatus.PUBLISHED)


@job
def revalidate_draft(archive: Archive, version_id: int) -> None:
    """Validate a draft again because something its verdict includes changed outside
    it (a data standard's findings about the dataset)."""
    with archive.db.session(write=True) as session:
        version = session.get(Version, version_id, with_for_update=True)
        if version is None or not version.is_draft or version.status in _SETTLED:
            return
        queue_validation(archive, session, version)


@job
def register_dois(archive: Archive, dandiset_id: int) -> None:
    dois.register(archive, dandiset_id)
