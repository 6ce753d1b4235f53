"""Sellerdesk settings: every value comes from the environment (django-environ).

The defaults are the embedded ones `make run` uses on a fresh machine: SQLite under var/, a Celery
broker that needs no server, e-mail on the console. Setting DATABASE_URL / REDIS_URL moves the same
code onto PostgreSQL and Redis. A bad value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SELLERDESK_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# A local .env (written by `make run` on first start) fills in what the real environment leaves
# unset; the real environment always wins. SELLERDESK_ENV_FILE points elsewhere (or at nothing).
ENV_FILE = Path(env.str("SELLERDESK_ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    env.read_env(ENV_FILE, overwrite=False)


def _setting(name: str, read, **kwargs):
    """Read one variable; turn any parse error into a message that names the variable."""
    try:
        return read(name, **kwargs)
    except ImproperlyConfigured:
        raise
    except Exception as exc:  # environ raises ValueError, KeyError, ... depending on the cast
        raise ImproperlyConfigured(f"{name} has an invalid value: {exc}") from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(name: str, default: bool) -> bool:
    """Strict: "perhaps" is an error, not False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Put it in the environment or in .env "
            "(`make run` generates local values on first start)."
        )
    return value


DEBUG = _bool("DEBUG", default=False)
SECRET_KEY = _required("SECRET_KEY")

# Fernet keys (urlsafe base64, 32 bytes) for marketplace tokens at rest. Comma-separated: the first
# encrypts, all decrypt, so a key can be rotated by putting a new one first.
TOKEN_ENCRYPTION_KEYS = [k.strip() for k in _required("TOKEN_ENCRYPTION_KEYS").split(",") if k]

ALLOWED_HOSTS = _setting(
    "ALLOWED_HOSTS",
    env.list,
    default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [],
)
CSRF_TRUSTED_ORIGINS = _setting("CSRF_TRUSTED_ORIGINS", env.list, default=[])
# `make run PORT=...` serves on SELLERDESK_PORT; links (invitations, sign-up) follow it by default.
SITE_PORT = _setting("SELLERDESK_PORT", env.int, default=8000)
SITE_URL = _setting("SITE_URL", env.str, default=f"http://127.0.0.1:{SITE_PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "csp",
    "drf_spectacular_sidecar",
    "rest_framework_api_key",  # its AbstractAPIKey; our key is tenants.APIKey
    "tenants",
    "marketplaces",
    "orders",
    "inbox",
    "sla",
    "api",
    "integrations",
    "escalations",
    "triage",
    "email_channel",
    "search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "tenants.middleware.TenantMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.tenancy",
                "marketplaces.context_processors.store_alerts",
                "integrations.context_processors.webhook_alerts",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
_KNOWN_DB_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql", "psql"}


def _database_from_env() -> dict:
    default = f"sqlite:///{VAR_DIR / 'sellerdesk.sqlite3'}"
    url = env.str("DATABASE_URL", default=default)
    scheme = urlsplit(url).scheme if "://" in url else ""
    if scheme not in _KNOWN_DB_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL Sellerdesk understands: {url.split('@')[-1]!r}. "
            "Use postgres://user:password@host:5432/name or sqlite:////absolute/path.sqlite3."
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:
        raise ImproperlyConfigured(f"DATABASE_URL could not be parsed: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # web, worker and beat share one SQLite file in the embedded setup: WAL lets readers and a
        # writer overlap, IMMEDIATE transactions avoid "database is locked" upgrade deadlocks.
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        config["CONN_MAX_AGE"] = _setting("DATABASE_CONN_MAX_AGE", env.int, default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
    raise ImproperlyConfigured(
        f"REDIS_URL must start with redis://, rediss:// or unix://: {REDIS_URL!r}"
    )

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    # No server needed: the cache is files (shared by web and worker processes), and the broker is
    # kombu's filesystem transport, so a real worker process still consumes real messages.
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "results", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_celery_dir / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{_celery_dir / 'results'}"

# Lets a test (or an isolated deployment) route tasks to its own queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TIME_LIMIT = _setting("CELERY_TASK_TIME_LIMIT", env.int, default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = _setting("CELERY_TASK_SOFT_TIME_LIMIT", env.int, default=25 * 60)
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message to be redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 3600
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "tenants.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
INVITATION_TTL_DAYS = _setting("INVITATION_TTL_DAYS", env.int, default=7)
# Sign-in throttling (tenants/signin_throttle.py): failures counted per e-mail and per client
# address over SIGNIN_LOCKOUT_SECONDS; at a limit, that account or address pauses that long.
SIGNIN_MAX_FAILURES_PER_ACCOUNT = _setting("SIGNIN_MAX_FAILURES_PER_ACCOUNT", env.int, default=10)
SIGNIN_MAX_FAILURES_PER_ADDRESS = _setting("SIGNIN_MAX_FAILURES_PER_ADDRESS", env.int, default=50)
SIGNIN_LOCKOUT_SECONDS = _setting("SIGNIN_LOCKOUT_SECONDS", env.int, default=15 * 60)
# How many proxies in front of the web process append to X-Forwarded-For (0: use the peer).
SIGNIN_TRUSTED_PROXIES = _setting("SIGNIN_TRUSTED_PROXIES", env.int, default=0)

# --- E-mail -----------------------------------------------------------------------------------
try:
    vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
except Exception as exc:
    raise ImproperlyConfigured(f"EMAIL_URL could not be parsed: {exc}") from exc
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Sellerdesk <no-reply@sellerdesk.local>")
# Seconds an SMTP connection may take: submitting an escalation sends its e-mail while the agent
# waits, and a mail server that never answers must not hold a web worker forever.
EMAIL_TIMEOUT = _setting("EMAIL_TIMEOUT", env.int, default=20)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- I18N, static -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# --- REST API ---------------------------------------------------------------------------------
# /api/v1/ (api/ and each app's api.py): API keys only, errors as {"error": {...}}, keyset cursor
# pagination, rate limits per key, Idempotency-Key on POST (see api/__init__.py).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BearerKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.KeyScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.KeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.KeysetPagination",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
}
API_RATE_LIMIT_PER_MINUTE = _setting("API_RATE_LIMIT_PER_MINUTE", env.int, default=600)
API_MAX_JSON_BYTES = _setting("API_MAX_JSON_BYTES", env.int, default=1024 * 1024)
# Outbound webhooks (integrations/): private and loopback endpoints are refused unless allowed
# (tests and the demo talk to receivers on 127.0.0.1); how many deliveries are sent at once.
WEBHOOKS_ALLOW_PRIVATE_URLS = _bool("WEBHOOKS_ALLOW_PRIVATE_URLS", default=False)
WEBHOOKS_CONCURRENCY = _setting("WEBHOOKS_CONCURRENCY", env.int, default=16)
SPECTACULAR_SETTINGS = {
    "TITLE": "Sellerdesk API",
    "DESCRIPTION": (
        "Tickets, messages, notes, orders, stores, snippets, members and webhook subscriptions "
        "of your Sellerdesk organisation. Authenticate with `Authorization: Bearer <API key>` "
        "(Settings → API keys). Lists are cursor-paginated (`cursor`, `page_size` ≤ 100); every "
        'POST accepts an `Idempotency-Key`; errors are `{"error": {"code", "message", '
        '"fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "inbox.models.TicketStatus",
        "StoreStatusEnum": "marketplaces.models.StoreStatus",
        "SyncJobStatusEnum": "marketplaces.models.SyncJobStatus",
        "DeliveryStatusEnum": "inbox.models.DeliveryStatus",
        "WebhookDeliveryStatusEnum": "integrations.models.DeliveryStatus",
        "OrderStatusEnum": "orders.models.OrderStatus",
        "EscalationStatusEnum": "escalations.models.EscalationStatus",
        "EscalationKindEnum": "escalations.kinds.KIND_CHOICES",
        "EscalationEventKindEnum": "escalations.models.EscalationEventKind",
        "MailSecurityEnum": "email_channel.models.Security",
    },
    "SECURITY": [{"bearerAuth": []}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_common_parts",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- TikTok Shop ------------------------------------------------------------------------------
# The same client talks to TikTok Shop or to the sandbox: only these base URLs differ.
TIKTOK_APP_KEY = env.str("TIKTOK_APP_KEY", default="")
TIKTOK_APP_SECRET = env.str("TIKTOK_APP_SECRET", default="")
TIKTOK_SERVICE_ID = env.str("TIKTOK_SERVICE_ID", default="")
TIKTOK_AUTH_BASE_URL = env.str("TIKTOK_AUTH_BASE_URL", default="https://auth.tiktok-shops.com")
TIKTOK_API_BASE_URL = env.str(
    "TIKTOK_API_BASE_URL", default="https://open-api.tiktokglobalshop.com"
)
TIKTOK_AUTHORIZE_URL_US = env.str(
    "TIKTOK_AUTHORIZE_URL_US", default="https://services.us.tiktokshop.com/open/authorize"
)
TIKTOK_AUTHORIZE_URL_ROW = env.str(
    "TIKTOK_AUTHORIZE_URL_ROW", default="https://services.tiktokshop.com/open/authorize"
)
TIKTOK_CONNECT_TIMEOUT = _setting("TIKTOK_CONNECT_TIMEOUT", env.float, default=5.0)
TIKTOK_READ_TIMEOUT = _setting("TIKTOK_READ_TIMEOUT", env.float, default=30.0)
TIKTOK_MAX_RETRIES = _setting("TIKTOK_MAX_RETRIES", env.int, default=5)

# --- Orders ---------------------------------------------------------------------------------------
# Seconds between incremental order syncs of each active store (webhooks refresh single orders
# in between).
ORDER_SYNC_INTERVAL_SECONDS = _setting("ORDER_SYNC_INTERVAL_SECONDS", env.int, default=300)
CATALOG_SYNC_INTERVAL_SECONDS = _setting("CATALOG_SYNC_INTERVAL_SECONDS", env.int, default=900)

# --- Mailbox --------------------------------------------------------------------------------------
# Reply images with more pixels are refused (read from the file's header, never decoded): memory
# grows with pixels, not bytes, and a 12,000 x 12,000 PNG fits in 15 MB.
IMAGE_MAX_PIXELS = _setting("IMAGE_MAX_PIXELS", env.int, default=25_000_000)
# Seconds between polls of each active store's conversations (the backstop for lost webhooks).
INBOX_POLL_INTERVAL_SECONDS = _setting("INBOX_POLL_INTERVAL_SECONDS", env.int, default=45)
# E-mail channels: seconds between reads of each support mailbox, the IMAP/SMTP timeout, and the
# largest attachment kept (a larger one is listed on its message as not kept).
EMAIL_CHANNEL_POLL_SECONDS = _setting("EMAIL_CHANNEL_POLL_SECONDS", env.int, default=60)
EMAIL_CHANNEL_TIMEOUT_SECONDS = _setting("EMAIL_CHANNEL_TIMEOUT_SECONDS", env.int, default=20)
EMAIL_ATTACHMENT_MAX_BYTES = _setting(
    "EMAIL_ATTACHMENT_MAX_BYTES", env.int, default=20 * 1024 * 1024
)
# Replies: attempts before a reply is marked failed, and the backoff between them (doubling from
# the base, capped, half of it jittered).
INBOX_SEND_MAX_ATTEMPTS = _setting("INBOX_SEND_MAX_ATTEMPTS", env.int, default=8)
INBOX_SEND_BACKOFF_BASE_SECONDS = _setting(
    "INBOX_SEND_BACKOFF_BASE_SECONDS", env.float, default=5.0
)
INBOX_SEND_BACKOFF_CAP_SECONDS = _setting(
    "INBOX_SEND_BACKOFF_CAP_SECONDS", env.float, default=600.0
)
# SLA: a clock due within this many minutes puts its ticket in "Due soon" (amber badge).
SLA_DUE_SOON_MINUTES = _setting("SLA_DUE_SOON_MINUTES", env.int, default=60)

# --- Security ---------------------------------------------------------------------------------
# Every request reads its session: from the cache (Redis, or the embedded file cache) first, the
# database only on a miss, so a page or a heartbeat makes one PostgreSQL query fewer. Writes go
# to both; signing out deletes both.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not from the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # SECURE_COOKIES=false only for a site served over plain HTTP on this machine (`make run`
    # writes it into .env): a browser would not send a Secure cookie back to http://127.0.0.1.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _bool("SECURE_COOKIES", default=True)
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = _setting("SECURE_HSTS_SECONDS", env.int, default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a near-irreversible choice for the operator's domain, so it is opt-in
        # (SECURE_HSTS_PRELOAD=true) and the check that nags about it is silenced by choice.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    # Behind a TLS-terminating proxy (docker-compose, a load balancer).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


# Content-Security-Policy (django-csp) on every response: scripts and styles only from our own
# static files (no inline <script>/<style>, no style="" attributes, no eval: HTMX runs with
# allowEval off and its indicator styles in app.css, see base.html), images also from https (buyer
# photos, product pictures). config/csp.py adds the marketplace's consent page to form-action and
# an http API host (the sandbox) to img-src, read from the TIKTOK_* settings.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "https:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Triage (intent, language and urgency of buyer messages; triage/README.md) -------------------
# The shipped classifier, trained from triage/data by `manage.py triage_train`; trained at first
# use when missing (or written by another scikit-learn release) unless this is False.
TRIAGE_MODEL_PATH = _setting(
    "TRIAGE_MODEL_PATH", env.str, default=str(VAR_DIR / "triage" / "model.pkl")
)
TRIAGE_TRAIN_MISSING_MODEL = _setting("TRIAGE_TRAIN_MISSING_MODEL", env.bool, default=True)
# Organisations' retrained models kept loaded per worker process (each some 10 MB in memory).
TRIAGE_TENANT_MODELS_CACHED = _setting("TRIAGE_TENANT_MODELS_CACHED", env.int, default=4)

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Its DEBUG lines print request URLs, and TikTok's token endpoints carry secrets in the
        # query string; the client redacts them too, this is the second guard.
        "urllib3": {"level": "INFO"},
    },
}

# Recovery timeouts (what a killed worker leaves is taken back after these), in seconds; unset:
# the modules' own values (webhook claim 10 min, enqueue grace 2 min, reply lease 15 min, queued
# grace 30 s, sync heartbeat 10 min). bench/faults.py shortens them to recover within its run.
for _name in (
    "WEBHOOK_CLAIM_TIMEOUT_SECONDS",
    "WEBHOOK_ENQUEUE_GRACE_SECONDS",
    "INBOX_SEND_LEASE_SECONDS",
    "INBOX_QUEUED_GRACE_SECONDS",
    "SYNC_STALE_AFTER_SECONDS",
):
    if os.environ.get(_name):
        globals()[_name] = int(os.environ[_name])
