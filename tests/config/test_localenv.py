"""The first-start step that writes local secrets: it must work before any secret exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
SECRETS = (
    "SECRET_KEY",
    "TOKEN_ENCRYPTION_KEYS",
    "DEMO_PASSWORD",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
)


def _run(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A fresh clone: no secrets in the environment, no .env yet.
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env["SELLERDESK_ENV_FILE"] = str(env_file)
    return subprocess.run(
        [sys.executable, "config/localenv.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _values(env_file: Path) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line]
    return {key: value for key, value in pairs if not key.startswith("#")}


def test_writes_secrets_on_a_fresh_clone_and_keeps_them_on_the_next_run(tmp_path):
    env_file = tmp_path / ".env"
    first = _run(env_file)
    assert first.returncode == 0, first.stderr
    values = _values(env_file)
    assert set(values) == {
        "DEBUG",
        "ALLOWED_HOSTS",
        "SECURE_SSL_REDIRECT",
        "SECURE_COOKIES",
        "SECRET_KEY",
        "TOKEN_ENCRYPTION_KEYS",
        "DEMO_PASSWORD",
    }
    assert len(values["SECRET_KEY"]) >= 50
    Fernet(values["TOKEN_ENCRYPTION_KEYS"].encode())  # a usable key
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"

    second = _run(env_file)
    assert second.returncode == 0, second.stderr
    assert _values(env_file) == values


def test_points_tiktok_settings_at_the_sandbox_unless_an_app_is_configured(tmp_path):
    env_file = tmp_path / ".env"
    data = tmp_path / "sandbox.sqlite3"
    result = _run(env_file, "--sandbox-data", str(data), "--sandbox-url", "http://127.0.0.1:9555/")
    assert result.returncode == 0, result.stderr
    values = _values(env_file)
    assert data.exists()
    assert values["TIKTOK_API_BASE_URL"] == "http://127.0.0.1:9555"
    assert values["TIKTOK_AUTHORIZE_URL_US"] == "http://127.0.0.1:9555/us/open/authorize"
    assert values["TIKTOK_AUTHORIZE_URL_ROW"] == "http://127.0.0.1:9555/open/authorize"
    assert values["TIKTOK_APP_KEY"] and values["TIKTOK_APP_SECRET"] and values["TIKTOK_SERVICE_ID"]

    # A real app configured by hand is never overwritten.
    real = tmp_path / "real.env"
    real.write_text("TIKTOK_APP_KEY=real-app\n")
    kept = _run(real, "--sandbox-data", str(data))
    assert kept.returncode == 0, kept.stderr
    assert _values(real)["TIKTOK_APP_KEY"] == "real-app"
    assert "TIKTOK_API_BASE_URL" not in _values(real)


def test_a_sandbox_on_another_port_updates_the_values_written_for_the_first(tmp_path):
    """`make run SANDBOX_PORT=9101` after a run on 9100: TIKTOK_* follow the new port; a second
    copy of the project (its own .env) gets its own port from the start."""
    env_file = tmp_path / ".env"
    data = tmp_path / "sandbox.sqlite3"
    assert _run(env_file, "--sandbox-data", str(data), "--sandbox-url", "http://127.0.0.1:9100")
    secret = _values(env_file)["SECRET_KEY"]

    moved = _run(env_file, "--sandbox-data", str(data), "--sandbox-url", "http://127.0.0.1:9101")

    assert moved.returncode == 0, moved.stderr
    values = _values(env_file)
    assert values["TIKTOK_AUTH_BASE_URL"] == "http://127.0.0.1:9101"
    assert values["TIKTOK_API_BASE_URL"] == "http://127.0.0.1:9101"
    assert values["TIKTOK_AUTHORIZE_URL_US"] == "http://127.0.0.1:9101/us/open/authorize"
    assert values["TIKTOK_AUTHORIZE_URL_ROW"] == "http://127.0.0.1:9101/open/authorize"
    assert values["SECRET_KEY"] == secret  # nothing else changes
    assert env_file.read_text().count("TIKTOK_AUTH_BASE_URL=") == 1


def test_the_sandbox_port_comes_from_make_runs_setting(tmp_path):
    env_file = tmp_path / ".env"
    data = tmp_path / "sandbox.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update(SELLERDESK_ENV_FILE=str(env_file), SELLERDESK_SANDBOX_PORT="9777")
    result = subprocess.run(
        [sys.executable, "config/localenv.py", "--sandbox-data", str(data)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _values(env_file)["TIKTOK_AUTH_BASE_URL"] == "http://127.0.0.1:9777"


def test_the_generated_env_runs_the_demo_with_debug_off_over_plain_http(tmp_path):
    """A wrong URL in the demo shows the product's 404 page, not Django's debug page: DEBUG is
    off, and the demo still works on http://127.0.0.1 (no HTTPS redirect, cookies without the
    Secure flag, loopback host names allowed)."""
    env_file = tmp_path / ".env"
    assert _run(env_file).returncode == 0
    assert _values(env_file)["DEBUG"] == "false"

    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update(SELLERDESK_ENV_FILE=str(env_file), DJANGO_SETTINGS_MODULE="config.settings")
    for name in ("ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_COOKIES"):
        env.pop(name, None)
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.ALLOWED_HOSTS)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "False False False False ['127.0.0.1', 'localhost', '[::1]']"
