"""Training in a child process: scikit-learn and a training's memory (~90 MB) stay out of the
worker that asked for it, which only loads the compact result (bench/triage.py: +112 MB in a
worker that trained the shipped model itself, +23 MB when a child did). The child is this
project's `manage.py`, run by the same interpreter, pointed at the database and model file this
process uses now (a test run's differ from the environment's)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


def child_env(*, database: bool) -> dict[str, str] | None:
    """This process's environment for a child; None when the child could not reach this
    process's database (an in-memory SQLite database is this process's alone)."""
    env = dict(os.environ)
    env["TRIAGE_MODEL_PATH"] = str(settings.TRIAGE_MODEL_PATH)
    env["TRIAGE_TRAIN_MISSING_MODEL"] = "true" if settings.TRIAGE_TRAIN_MISSING_MODEL else "false"
    if not database:
        return env
    connection = connections["default"]
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            return None
        env["DATABASE_URL"] = f"sqlite:///{Path(name).resolve()}"
        return env
    url = env.get("DATABASE_URL")
    if not url:
        return None
    # The same server, user and options; this process's database name (a test database's).
    env["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path="/" + quote(name)))
    return env


def manage_in_child(
    *args: str, database: bool, timeout: float
) -> subprocess.CompletedProcess[str] | None:
    """`manage.py <args>` in a child process, its output captured; None when no child could be
    started here (no manage.py beside the code, no database to give it, or the start failed)."""
    manage = Path(settings.BASE_DIR) / "manage.py"
    env = child_env(database=database)
    if not manage.exists() or env is None:
        return None
    try:
        return subprocess.run(  # noqa: S603 (our own interpreter and script, no shell)
            [sys.executable, str(manage), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("manage.py %s could not run in a child process: %s", args[0], error)
        return None


def last_error_line(finished: subprocess.CompletedProcess[str]) -> str:
    lines = (finished.stderr or "").strip().splitlines()
    return lines[-1] if lines else f"exit {finished.returncode}"
