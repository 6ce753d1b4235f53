"""Local mail servers for `make run`, the tests and the benchmark: a real IMAP server (pymap,
in-memory) and a real SMTP server (aiosmtpd) on loopback, no outside account.

Like the TikTok sandbox, product code never imports this package; the demo, tests and bench start
it. `LocalSMTP` keeps every mail it accepts (`messages`) and can require a sign-in; `LocalIMAP`
runs pymap's dict backend with one mailbox user in a child process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, *, timeout: float = 30.0, process: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the local mail server exited ({process.returncode})")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on {HOST}:{port}")


@dataclass
class LocalIMAP:
    """pymap (dict backend: in memory) with one user, in a child process."""

    username: str = "support@shop.test"
    password: str = "support-secret"  # noqa: S105  (the local test server's own)
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> LocalIMAP:
        self.port = self.port or free_port()
        pymap = shutil.which("pymap", path=str(Path(sys.executable).parent)) or "pymap"
        self.process = subprocess.Popen(  # noqa: S603
            [pymap, "--host", HOST, "--port", str(self.port), "--no-tls", "dict", *self._user()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        _wait_for_port(self.port, process=self.process)
        return self

    def _user(self) -> list[str]:
        return ["--demo-user", self.username, "--demo-password", self.password]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            if self.process.poll() is None:
                self.process.kill()
        self.process = None

    def mailbox(self) -> Any:
        """A signed-in imap-tools session to seed or read the mailbox."""
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted(HOST, self.port).login(self.username, self.password)

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.mailbox() as mailbox:
            mailbox.append(raw, folder)


class _Collect:
    def __init__(self, server: LocalSMTP) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        self.server.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        if self.server.deliver_to is not None:
            with contextlib.suppress(Exception):
                self.server.deliver_to(bytes(envelope.original_content))
        return "250 OK"


@dataclass
class LocalSMTP:
    """aiosmtpd in a thread; keeps (sender, recipients, bytes) of every mail it accepts."""

    username: str = "support@shop.test"
    password: str = "smtp-secret"  # noqa: S105  (the local test server's own)
    port: int = 0
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    deliver_to: Any = None  # a callable given each accepted mail's bytes (the demo's buyer box)
    controller: Controller | None = field(default=None, repr=False)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            ok = data.login.decode() == self.username and data.password.decode() == self.password
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    def start(self) -> LocalSMTP:
        self.port = self.port or free_port()
        self.controller = Controller(
            _Collect(self),
            hostname=HOST,
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
            auth_required=False,
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Message]:
        return [message_from_bytes(raw) for _, _, raw in self.received]
