"""What each mail says: subjects and plain-text bodies, with links to the site."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from dandi_archive.db.models import Dandiset, HelpRequest, User, UserStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.config import Settings

Text = tuple[str, str]  # subject, body
# Digests list this many accounts, then say how many more wait.
DIGEST_LIST_LIMIT = 50
AFFILIATION = "Affiliation(s)"


def _signature(settings: Settings) -> str:
    lines = ["", "-- ", f"DANDI Archive, {settings.webui_url}/"]
    if settings.support_email:
        lines.append(f"Questions: {settings.support_email}")
    return "\n".join(lines)


def _greeting(user: User) -> str:
    return f"Dear {user.name.strip() or user.username},"


def account_approved(settings: Settings, user: User) -> Text:
    return (
        "Your DANDI Archive account is approved",
        f"""{_greeting(user)}

an administrator approved your account ({user.email}). You can now create
Dandisets and upload data. Your API key, for the dandi client, is on your
account page:

  {settings.webui_url}/account
{_signature(settings)}
""",
    )


def account_rejected(settings: Settings, user: User, reason: str) -> Text:
    why = f"\nThe administrator gave this reason:\n\n{_indent(reason)}\n" if reason else ""
    return (
        "Your DANDI Archive account was not approved",
        f"""{_greeting(user)}

an administrator did not approve your account ({user.email}); it can no
longer sign in or use its API key.
{why}{_signature(settings)}
""",
    )


def _dandiset_line(settings: Settings, dandiset: Dandiset, name: str) -> str:
    return f"""  {dandiset.identifier} "{name}"
  {settings.webui_url}/dandiset/{dandiset.identifier}"""


def owner_added(settings: Settings, user: User, dandiset: Dandiset, name: str, by: str) -> Text:
    return (
        f"You are now an owner of Dandiset {dandiset.identifier}",
        f"""{_greeting(user)}

{by} made you an owner of this Dandiset:

{_dandiset_line(settings, dandiset, name)}

Owners can change its metadata, upload and remove files, publish it and
manage its owners.
{_signature(settings)}
""",
    )


def owner_removed(settings: Settings, user: User, dandiset: Dandiset, name: str, by: str) -> Text:
    return (
        f"You are no longer an owner of Dandiset {dandiset.identifier}",
        f"""{_greeting(user)}

{by} removed you from the owners of this Dandiset:

{_dandiset_line(settings, dandiset, name)}
{_signature(settings)}
""",
    )


def unembargo_finished(settings: Settings, user: User, dandiset: Dandiset, name: str) -> Text:
    return (
        f"Dandiset {dandiset.identifier} is now open",
        f"""{_greeting(user)}

the embargo of this Dandiset you own is lifted: its metadata and files are
now open to everyone.

{_dandiset_line(settings, dandiset, name)}
{_signature(settings)}
""",
    )


def access_requested(
    settings: Settings, owner: User, dandiset: Dandiset, name: str, requester: User, message: str
) -> Text:
    said = f"\nTheir message:\n\n{_indent(message)}\n" if message else ""
    who = f"{requester.name or requester.username} ({requester.email})"
    return (
        f"{requester.name or requester.username} asks to read Dandiset {dandiset.identifier}",
        f"""{_greeting(owner)}

{who} asks for read access to this embargoed
Dandiset you own:

{_dandiset_line(settings, dandiset, name)}
{said}
Accept or decline the request here:

  {settings.webui_url}/dandiset/{dandiset.identifier}/access
{_signature(settings)}
""",
    )


def owners_contacted(
    settings: Settings, owner: User, dandiset: Dandiset, name: str, sender: User, message: str
) -> Text:
    who = sender.name.strip() or sender.username
    return (
        f"{who} writes about Dandiset {dandiset.identifier}",
        f"""{_greeting(owner)}

{who} ({sender.email}) wrote to the owners of this Dandiset
through its page on the archive:

{_dandiset_line(settings, dandiset, name)}

Their message:

{_indent(message)}

To answer, write to {sender.email}. The archive did not give them your
address; it is theirs to know only if you reply.
{_signature(settings)}
""",
    )


def access_answered(
    settings: Settings, requester: User, dandiset: Dandiset, name: str, accepted: bool
) -> Text:
    if accepted:
        subject = f"You can now read Dandiset {dandiset.identifier}"
        news = """its owners accepted your request: you can now read this embargoed
Dandiset, its metadata and files, on the site and with your API key:"""
    else:
        subject = f"Your request to read Dandiset {dandiset.identifier} was declined"
        news = "its owners declined your request to read this embargoed Dandiset:"
    return (
        subject,
        f"""{_greeting(requester)}

{news}

{_dandiset_line(settings, dandiset, name)}
{_signature(settings)}
""",
    )


def embargo_ends_soon(
    settings: Settings, owner: User, dandiset: Dandiset, name: str, ends: str
) -> Text:
    return (
        f"The embargo of Dandiset {dandiset.identifier} ends on {ends}",
        f"""{_greeting(owner)}

the embargo of this Dandiset you own ends on {ends}. On that day its
metadata and files become open to everyone:

{_dandiset_line(settings, dandiset, name)}

To lift it sooner, use Unembargo on its access page:

  {settings.webui_url}/dandiset/{dandiset.identifier}/access
{_signature(settings)}
""",
    )


def password_reset(settings: Settings, user: User, link: str) -> Text:
    hours = settings.password_reset_hours
    lifetime = f"{hours:g} hour{'s' if hours != 1 else ''}"
    return (
        "Set a new password for the DANDI Archive",
        f"""{_greeting(user)}

someone (we hope you) asked to set a new password for the account
{user.email}. Open this link to choose one:

  {link}

The link works once, for {lifetime}. If you did not ask, ignore this mail:
your password stays as it is.
{_signature(settings)}
""",
    )


def signup_digest(
    settings: Settings, session: Session, recipients: Sequence[str]
) -> tuple[list[str], str, str] | None:
    """Recipients, subject and body of the digest of accounts awaiting approval, oldest
    first; None if no account waits."""
    waiting = list(
        session.scalars(
            select(User).where(User.status == UserStatus.PENDING).order_by(User.created, User.id)
        )
    )
    if not waiting:
        return None
    lines = []
    for user in waiting[:DIGEST_LIST_LIMIT]:
        affiliation = (user.questionnaire or {}).get(AFFILIATION)
        when = f"{user.created:%Y-%m-%d %H:%M} UTC"
        lines.append(f"  - {user.name or user.username} <{user.email}>, signed up {when}")
        if affiliation:
            lines.append(f"    {' '.join(str(affiliation).split())[:200]}")
    if len(waiting) > DIGEST_LIST_LIMIT:
        lines.append(f"  ... and {len(waiting) - DIGEST_LIST_LIMIT} more")
    count = len(waiting)
    accounts = "account awaits" if count == 1 else "accounts await"
    body = f"""{count} {accounts} your approval:

{chr(10).join(lines)}

Approve or reject them (with a reason, sent to the person) here:

  {settings.webui_url}/admin/users
{_signature(settings)}
"""
    return list(recipients), f"DANDI Archive: {count} {accounts} approval", body


def help_requested(
    settings: Settings,
    request: HelpRequest,
    requester: User,
    dandiset: Dandiset | None,
    name: str | None,
) -> Text:
    who = f"{requester.name or requester.username} <{requester.email}>"
    status = "" if requester.is_approved else f" (account {requester.status.value.lower()})"
    about = (
        f"\nAbout this Dandiset:\n\n{_dandiset_line(settings, dandiset, name or '')}\n"
        if dandiset is not None
        else ""
    )
    return (
        f"Help request {request.id}: {request.subject}",
        f"""{who}{status} asks for help:

  {request.subject}

{_indent(request.message)}
{about}
Answer it here (the answer is mailed to them):

  {settings.webui_url}/admin/help#request-{request.id}
{_signature(settings)}
""",
    )


def help_answered(settings: Settings, request: HelpRequest, requester: User, by: User) -> Text:
    return (
        f"Re: {request.subject}",
        f"""{_greeting(requester)}

{by.name or by.username}, an administrator of the archive, answered your help
request "{request.subject}":

{_indent(request.answer or "")}

Your requests and their answers are on this page:

  {settings.webui_url}/help/requests
{_signature(settings)}
""",
    )


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.strip().splitlines())
