"""Handing one mail over: built with the standard library's ``email`` package and
sent with ``smtplib`` to the configured server; without one, written to
``<data_dir>/outbox/`` as an ``.eml`` file (and logged), so an instance on one machine
shows what it would have sent.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from dandi_archive.config import Settings

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The server could not be reached or refused the mail; it is tried again later."""


def build_message(
    settings: Settings, mail_id: int, recipients: Sequence[str], subject: str, body: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = settings.mail_sender.rpartition("@")[2].strip(">") or "localhost"
    # The same id on every try, so a server that got it twice can tell.
    message["Message-ID"] = make_msgid(f"outbox.{mail_id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(body)
    return message


def deliver(settings: Settings, message: EmailMessage, mail_id: int) -> str:
    """Send ``message`` (or write it out); returns where it went, for the log."""
    if not settings.smtp_configured:
        return str(_write_eml(settings.data_dir / "outbox", message, mail_id))
    try:
        _send_smtp(settings, message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    return f"smtp://{settings.smtp_host}:{settings.smtp_port_or_default}"


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    host, port = settings.smtp_host or "", settings.smtp_port_or_default
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_ssl:
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    with server:
        if settings.smtp_starttls:
            server.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            server.login(settings.smtp_username, settings.smtp_password or "")
        server.send_message(message)


def _write_eml(folder: Path, message: EmailMessage, mail_id: int) -> Path:
    """Written whole or not at all: a reader of the folder never sees half a mail."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}-{mail_id:06d}.eml"
    partial = folder / f".{path.name}.partial"
    partial.write_bytes(message.as_bytes())
    os.replace(partial, path)
    log.info("mail %d to %s written to %s (no SMTP server set)", mail_id, message["To"], path)
    return path
