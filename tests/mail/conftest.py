"""A real SMTP server on loopback (aiosmtpd) that keeps every mail it receives."""

from __future__ import annotations

import email
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from dandi_archive.testing import free_port

LINK = re.compile(r"https?://\S+")


@dataclass
class Received:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_content().replace("\r\n", "\n")

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.body)


@dataclass
class Inbox:
    """The mails the server accepted, in order; ``refuse`` makes it answer 451."""

    port: int
    received: list[Received] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(list(envelope.rcpt_tos), message))
        return "250 OK"

    def about(self, words: str) -> list[Received]:
        return [m for m in self.received if words in m.subject]

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received if address in m.envelope_to]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The server stores a mail a moment after the client hears 250."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


def start_server(port: int, inbox: Inbox, **options) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    inbox = Inbox(free_port())
    controller = start_server(inbox.port, inbox)
    yield inbox
    controller.stop()


def smtp_settings(inbox: Inbox, **extra) -> dict:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": inbox.port,
        "mail_from": "DANDI Test <archive@example.org>",
        **extra,
    }
