"""The mailbox's servers: opening IMAP and SMTP with the channel's settings, and saying in plain
words what went wrong. The only module (with `polling`, `sending`) that knows IMAP and SMTP.

Every failure leaves as a channel error (`marketplaces.channel`) whose message names the step
that failed — the host that did not answer, the password refused, the folder missing — so the
settings page and the channel's state can show it as it is.
"""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxFolderSelectError, MailboxLoginError

from marketplaces.channel import (
    ChannelError,
    InvalidRequestError,
    InvalidTokenError,
    UnavailableError,
)

from .models import EmailChannel, Security


def _timeout() -> float:
    return float(getattr(settings, "EMAIL_CHANNEL_TIMEOUT_SECONDS", 20))


def _network_problem(what: str, host: str, port: int, error: BaseException) -> ChannelError:
    """A sentence for a server that could not be reached or spoke no TLS."""
    if isinstance(error, socket.gaierror):
        return UnavailableError(f"{what}: the host name {host} was not found.")
    if isinstance(error, ConnectionRefusedError):
        return UnavailableError(f"{what}: {host} refused the connection on port {port}.")
    if isinstance(error, TimeoutError | socket.timeout):
        return UnavailableError(f"{what}: {host}:{port} did not answer in time.")
    if isinstance(error, ssl.SSLError):
        return UnavailableError(
            f"{what}: the secure connection to {host}:{port} failed ({error.reason or error}). "
            "Check the security setting (SSL/TLS or STARTTLS) and the port."
        )
    return UnavailableError(f"{what}: could not talk to {host}:{port} ({error}).")


# --- IMAP ---------------------------------------------------------------------------------------


def _imap_class(security: str) -> type[BaseMailBox]:
    return {
        Security.SSL: MailBox,
        Security.STARTTLS: MailBoxStartTls,
        Security.NONE: MailBoxUnencrypted,
    }[Security(security)]


@contextmanager
def imap_session(channel: EmailChannel, *, password: str | None = None) -> Iterator[BaseMailBox]:
    """A signed-in IMAP session (no folder selected yet); logged out on leaving."""
    host, port = channel.imap_host, channel.imap_port
    try:
        mailbox = _imap_class(channel.imap_security)(host, port, timeout=_timeout())
    except (OSError, imaplib.IMAP4.error) as error:
        raise _network_problem("IMAP", host, port, error) from error
    try:
        mailbox.login(
            channel.imap_username,
            channel.imap_password if password is None else password,
        )
    except MailboxLoginError as error:
        _logout(mailbox)
        raise InvalidTokenError(
            f"IMAP: {host} refused the user name or password for {channel.imap_username}."
        ) from error
    except (OSError, imaplib.IMAP4.error) as error:
        _logout(mailbox)
        raise _network_problem("IMAP", host, port, error) from error
    try:
        yield mailbox  # what goes wrong from here on is the caller's to word
    finally:
        _logout(mailbox)


def _logout(mailbox: BaseMailBox) -> None:
    with contextlib.suppress(Exception):  # a session that broke is closed as well as it can be
        mailbox.logout()


def folder_select(mailbox: BaseMailBox, folder: str) -> None:
    try:
        mailbox.folder.set(folder, readonly=True)
    except MailboxFolderSelectError as error:
        raise InvalidRequestError(f"IMAP: the folder {folder!r} does not exist.") from error


# --- SMTP ---------------------------------------------------------------------------------------


def smtp_backend(channel: EmailChannel, *, password: str | None = None) -> EmailBackend:
    """Django's SMTP backend with this channel's server and credentials (not opened yet)."""
    return EmailBackend(
        host=channel.smtp_host,
        port=channel.smtp_port,
        username=channel.smtp_username or "",
        password=(channel.smtp_password if password is None else password) or "",
        use_tls=channel.smtp_security == Security.STARTTLS,
        use_ssl=channel.smtp_security == Security.SSL,
        timeout=_timeout(),
        fail_silently=False,
    )


def smtp_open(backend: EmailBackend, channel: EmailChannel) -> None:
    host, port = channel.smtp_host, channel.smtp_port
    try:
        backend.open()
    except smtplib.SMTPAuthenticationError as error:
        raise InvalidTokenError(
            f"SMTP: {host} refused the user name or password for {channel.smtp_username}."
        ) from error
    except smtplib.SMTPNotSupportedError as error:
        raise UnavailableError(
            f"SMTP: {host}:{port} does not offer STARTTLS or sign-in as set "
            f"({error}). Check the security setting."
        ) from error
    except smtplib.SMTPException as error:
        raise UnavailableError(f"SMTP: {host}:{port} refused the session ({error}).") from error
    except OSError as error:
        raise _network_problem("SMTP", host, port, error) from error


# --- The connection test ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckStep:
    ok: bool
    text: str


def connection_check(
    channel: EmailChannel, *, imap_password: str | None = None, smtp_password: str | None = None
) -> list[CheckStep]:
    """Signs in to IMAP (opening every folder) and to SMTP; one line per step, the first failure
    of each server saying exactly what failed. Nothing is sent or changed."""
    steps: list[CheckStep] = []
    try:
        with imap_session(channel, password=imap_password) as mailbox:
            steps.append(
                CheckStep(
                    True, f"IMAP: signed in to {channel.imap_host} as {channel.imap_username}."
                )
            )
            for folder in channel.folders:
                folder_select(mailbox, folder)
                status = mailbox.folder.status(folder, ["MESSAGES"])
                steps.append(
                    CheckStep(True, f"IMAP: folder {folder} has {status['MESSAGES']} messages.")
                )
    except ChannelError as error:
        steps.append(CheckStep(False, error.detail))
    except (OSError, imaplib.IMAP4.error) as error:
        steps.append(
            CheckStep(False, f"IMAP: {channel.imap_host} broke off the session ({error}).")
        )
    backend = smtp_backend(channel, password=smtp_password)
    try:
        smtp_open(backend, channel)
        signed = f" as {channel.smtp_username}" if channel.smtp_username else ""
        steps.append(CheckStep(True, f"SMTP: connected to {channel.smtp_host}{signed}."))
    except ChannelError as error:
        steps.append(CheckStep(False, error.detail))
    finally:
        with contextlib.suppress(Exception):  # closed as well as it can be
            backend.close()
    return steps
