"""Settings come from the environment; a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
# The subprocess sees only what each test sets, not the suite's own database, broker or debug mode.
# The production settings module, not the suite's own (config/settings_test.py).
_SCRUBBED = {
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
    "SITE_URL",
    "SELLERDESK_PORT",
}
GOOD = {
    "SECRET_KEY": "x" * 64 + "-not-insecure-at-all-0123456789",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "SELLERDESK_ENV_FILE": "/nonexistent/.env",  # only what the test sets counts
}


def _run(*args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(GOOD)
    env.update(overrides)
    for key in [k for k, v in env.items() if v is None]:
        del env[key]
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _without(name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(GOOD)
    env.pop(name, None)
    return env


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "not a url at all"),
        ("DATABASE_URL", "mysqlx://who@where/db"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("DEBUG", "perhaps"),
        ("TIKTOK_READ_TIMEOUT", "soon"),
        ("EMAIL_URL", "carrier-pigeon"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value):
    result = _run("check", **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("variable", ["SECRET_KEY", "TOKEN_ENCRYPTION_KEYS"])
def test_a_missing_secret_stops_start_up_naming_it(variable):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_without(variable),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert f"{variable} is not set" in result.stderr


def test_good_environment_passes_the_system_check():
    result = _run("check")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_pass_the_deployment_check():
    result = _run(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        ALLOWED_HOSTS="desk.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_off_turns_on_secure_cookies_and_hsts():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS)"
    )
    result = _run("shell", "-c", code, DEBUG="false", ALLOWED_HOSTS="desk.example.com")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True True True 31536000 ['desk.example.com']"


def test_without_redis_celery_uses_the_filesystem_broker_and_file_cache():
    code = (
        "from django.conf import settings as s;"
        "print(s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
    )
    result = _run("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "filesystem://localhost// FileBasedCache"


def test_redis_url_becomes_broker_and_cache():
    code = (
        "from django.conf import settings as s;"
        "print(s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
    )
    result = _run("shell", "-c", code, REDIS_URL="redis://127.0.0.1:6379/3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "redis://127.0.0.1:6379/3 RedisCache"


def test_database_url_selects_postgresql():
    code = (
        "from django.conf import settings as s; d = s.DATABASES['default'];"
        " print(d['ENGINE'], d['NAME'], d['HOST'])"
    )
    result = _run("shell", "-c", code, DATABASE_URL="postgres://u:p@db.internal:5432/desk")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1] == "django.db.backends.postgresql desk db.internal"
    )


def _printed(expression: str, **overrides: str) -> str:
    result = _run(
        "shell", "-c", f"from django.conf import settings; print({expression})", **overrides
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_site_url_follows_the_port_make_run_serves_on():
    assert _printed("settings.SITE_URL") == "http://127.0.0.1:8000"
    assert _printed("settings.SITE_URL", SELLERDESK_PORT="8123") == "http://127.0.0.1:8123"
    # An explicit SITE_URL (a real host) wins.
    assert (
        _printed("settings.SITE_URL", SELLERDESK_PORT="8123", SITE_URL="https://desk.example.com/")
        == "https://desk.example.com"
    )


def test_the_suite_does_not_read_the_developers_env_file(tmp_path, settings):
    """A `.env` with another SITE_URL, DEBUG off and a TikTok app changes nothing in the tests."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        "SITE_URL=http://127.0.0.1:8765\nDEBUG=false\nTIKTOK_APP_KEY=someone-elses-app\n"
    )
    code = (
        "from django.conf import settings; "
        "print(settings.SITE_URL, settings.DEBUG, repr(settings.TIKTOK_APP_KEY))"
    )
    result = _run(
        "shell",
        "-c",
        code,
        SELLERDESK_ENV_FILE=str(env_file),
        DJANGO_SETTINGS_MODULE="config.settings_test",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8000 True ''"
    # The same file read by the production settings does change them.
    plain = _run(
        "shell", "-c", code, SELLERDESK_ENV_FILE=str(env_file), SECURE_SSL_REDIRECT="false"
    )
    assert (
        plain.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8765 False 'someone-elses-app'"
    )
    # And this very run did not read one either.
    assert str(settings.ENV_FILE) == os.devnull


def test_the_suite_hashes_passwords_fast_and_production_keeps_pbkdf2():
    """Factory users and sign-ins hash a password hundreds of times per run: the suite's settings
    use the fastest hasher, while the production settings leave Django's PBKDF2 default alone."""
    from django.conf import global_settings
    from django.contrib.auth.hashers import get_hasher

    import config.settings as production

    assert get_hasher().algorithm == "md5"
    assert not hasattr(production, "PASSWORD_HASHERS")
    assert global_settings.PASSWORD_HASHERS[0].endswith(".PBKDF2PasswordHasher")
