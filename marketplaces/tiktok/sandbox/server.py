"""`serve`: gunicorn (gthread workers) over the WSGI app, plus the single live-loop process."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from marketplaces.tiktok.sandbox.app import make_app


class SandboxServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, data_path: str, options: dict[str, Any]) -> None:
        self.data_path = data_path
        self.options = options
        self.live: subprocess.Popen[bytes] | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("when_ready", self.start_live)
        self.cfg.set("on_exit", self.stop_live)

    def load(self) -> Any:
        return make_app(self.data_path)

    def start_live(self, arbiter: Any) -> None:
        # A separate interpreter rather than a thread in the arbiter: workers are forked from the
        # arbiter, and forking a process that has a busy thread is asking for deadlocks.
        self.live = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "marketplaces.tiktok.sandbox",
                "live",
                "--data",
                self.data_path,
                "--parent-pid",
                str(os.getpid()),
            ]
        )

    def stop_live(self, arbiter: Any) -> None:
        if self.live is not None and self.live.poll() is None:
            self.live.terminate()
            try:
                self.live.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.live.kill()


def serve(data_path: str, host: str, port: int, workers: int, threads: int) -> None:
    SandboxServer(
        data_path,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "keepalive": 30,
            "timeout": 60,
            "graceful_timeout": 3,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "tiktok-sandbox",
        },
    ).run()
