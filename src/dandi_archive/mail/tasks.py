"""Background jobs of e-mail: sending one mail of the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dandi_archive.mail import outbox
from dandi_archive.tasks.registry import job

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


@job
def send_mail(archive: Archive, mail_id: int) -> None:
    outbox.send(archive, mail_id)
