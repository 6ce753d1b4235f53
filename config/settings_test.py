"""Settings of the test suite (pyproject's DJANGO_SETTINGS_MODULE): config.settings without the
developer's `.env`.

Tests pass the same on every machine: they read the real environment only (DATABASE_URL,
REDIS_URL, ... as CI exports them), never `.env`, whose SITE_URL, DEBUG or TikTok app would change
what pages and e-mails say. The values below are the suite's own; subprocesses the tests start
(workers, manage.py) inherit them with DJANGO_SETTINGS_MODULE.
"""

import os

# Not read, whatever SELLERDESK_ENV_FILE said.
os.environ["SELLERDESK_ENV_FILE"] = os.devnull
# What the tests assert on: development mode (no HTTPS redirect, plain static files) and the
# documented default site address in e-mailed links.
os.environ["DEBUG"] = "true"
os.environ["SITE_URL"] = "http://127.0.0.1:8000"
# Any valid values do; these are for tests only and protect nothing.
os.environ.setdefault("SECRET_KEY", "sellerdesk-test-suite-only-" + "k" * 40)
os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", "QPQe6xvhqvfbc-jMaB9vTnHRHqmqT0yEYi2a5hu7rXA=")

from config.settings import *  # noqa: F403

# Every factory-made user hashes its password and every sign-in checks one: PBKDF2's million
# iterations cost a third of a second each on a small machine, hundreds of times per run. The
# suite's passwords protect nothing, so the fastest hasher stands in (production keeps PBKDF2;
# config.settings is what tests/config/test_settings.py and subprocesses of benchmarks load).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
