"""Writing to a Dandiset's owners from its page, without learning their addresses.

The archive mails each owner the message with the sender's name and address (so they
can answer, and the sender knows they will be seen); the owners' addresses are never
shown. Only approved accounts write (a change-like action, as starring is), only about
Dandisets they may read; the web page throttles how often one account does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dandi_archive.access.permissions import is_active, require_approved, require_readable
from dandi_archive.dandisets.dandisets import draft_of, get_dandiset, owners
from dandi_archive.db.models import UserStatus
from dandi_archive.errors import BadRequest
from dandi_archive.mail import notices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.db.models import User
    from dandi_archive.instance import Archive

MAX_MESSAGE = 5000


def contact_owners(
    archive: Archive, session: Session, user: User | None, identifier: str, message: str
) -> int:
    """Queue the message to every other active owner; how many it goes to."""
    sender = require_approved(user)
    dandiset = get_dandiset(session, identifier)
    require_readable(session, dandiset, sender)
    message = message.strip()
    if not message:
        raise BadRequest("Write a message first.")
    if len(message) > MAX_MESSAGE:
        raise BadRequest(
            f"The message is {len(message):,} characters long; at most {MAX_MESSAGE:,}."
        )
    recipients = [
        o
        for o in owners(session, dandiset)
        if o.id != sender.id and is_active(o) and o.status == UserStatus.APPROVED
    ]
    if not recipients:
        raise BadRequest("This Dandiset has no other owner to write to.")
    name = draft_of(session, dandiset).name
    notices.owners_contacted(archive, session, dandiset, name, recipients, sender, message)
    return len(recipients)
