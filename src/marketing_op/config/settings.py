"""Settings: the one place that reads the environment.

Every setting has a safe default for a local run; production
(``MARKETING_OP_ENV=production``) has no default for secrets.
"""

from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def _project_dir() -> Path:
    """The source checkout when run from one (``make run``), else the working directory."""
    if os.environ.get("MARKETING_OP_HOME"):
        return Path(os.environ["MARKETING_OP_HOME"]).resolve()
    checkout = Path(__file__).resolve().parents[3]
    return checkout if (checkout / "pyproject.toml").exists() else Path.cwd().resolve()


PROJECT_DIR = _project_dir()
VAR_DIR = PROJECT_DIR / "var"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from error


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


ENVIRONMENT = os.environ.get("MARKETING_OP_ENV", "development").strip().lower()
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("MARKETING_OP_ENV must be 'development' or 'production'")
PRODUCTION = ENVIRONMENT == "production"


def _development_secret_key() -> str:
    """A random key kept in var/ so that a local run keeps its sessions across restarts."""
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when MARKETING_OP_ENV=production")
    SECRET_KEY = _development_secret_key()

DEBUG = False if PRODUCTION else _env_bool("DEBUG", False)

HOST = os.environ.get("HOST", "localhost")
PORT = _env_int("PORT", 8000)
# One per core that this process may run on: what granian advises (it warns above the core
# count). `make bench` runs two per core, as its earlier figures did (WEB_WORKERS).
WEB_WORKERS = _env_int(
    "WEB_WORKERS",
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
)

ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS") or (
    [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when MARKETING_OP_ENV=production")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "corsheaders",
    "ninja",
    "marketing_op.core",
    "marketing_op.accounts",
    "marketing_op.measurements",
    "marketing_op.dashboard",
]

MIDDLEWARE = [
    "marketing_op.core.middleware.RequestObservation",
    "marketing_op.core.middleware.SecurityHeaders",
    "marketing_op.core.middleware.RequestSizeLimit",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "marketing_op.config.urls"
WSGI_APPLICATION = "marketing_op.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DEFAULT_SQLITE_PATH = VAR_DIR / "marketing_op.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{DEFAULT_SQLITE_PATH}"
if DATABASE_URL.startswith("sqlite:///") and DATABASE_URL != "sqlite:///:memory:":
    Path(DATABASE_URL.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=_env_int("DATABASE_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters sent apart from the SQL: the token query of every request costs a third of
    # what client-side quoting costs (docs/architecture/index.md, Without Redis).
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )


def _replica(url: str) -> dj_database_url.DBConfig:
    """A read replica of the primary: PostgreSQL, with a short connect timeout (libpq's
    least, 2 s, unless the URL sets one) so that a replica that does not answer costs a
    read little before it is passed over; never migrated (``core.database_routing``)."""
    replica = dj_database_url.parse(
        url, conn_max_age=_env_int("DATABASE_CONN_MAX_AGE", 600), conn_health_checks=True
    )
    if replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS must name PostgreSQL databases")
    replica.setdefault("OPTIONS", {})["server_side_binding"] = True
    replica["OPTIONS"].setdefault("connect_timeout", 2)
    replica["TEST"] = {"MIRROR": "default"}
    return replica


DATABASE_REPLICA_URLS = _env_list("DATABASE_REPLICA_URLS")
if DATABASE_REPLICA_URLS and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL")
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    DATABASES[f"replica_{_number}"] = _replica(_url)
DATABASE_ROUTERS = ["marketing_op.core.database_routing.ReplicaRouter"]
DATABASE_REPLICA_RETRY_SECONDS = _env_int("DATABASE_REPLICA_RETRY_SECONDS", 1)
"""How long a replica that failed to connect or answer is passed over."""

TEST_DATABASE_NAME = os.environ.get("TEST_DATABASE_NAME", "")
if TEST_DATABASE_NAME:
    DATABASES["default"]["TEST"] = {"NAME": TEST_DATABASE_NAME}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
REDIS_TIMEOUT_MS = _env_int("REDIS_TIMEOUT_MS", 250)


def redis_cache(location: str) -> dict:
    """The shared cache on Redis. A cache, not the source of truth: a Redis that does not
    answer costs at most ``REDIS_TIMEOUT_MS``, its errors read as misses, and after a
    failure it is skipped for a few seconds (``core.shared_cache``)."""
    seconds = REDIS_TIMEOUT_MS / 1000
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "marketing_op"),
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": seconds,
            "SOCKET_TIMEOUT": seconds,
            "CONNECTION_POOL_CLASS": "marketing_op.core.shared_cache.GuardedConnectionPool",
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("CACHE_LOCATION", str(VAR_DIR / "cache")),
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "marketing_op"),
        }
    }

TOKEN_TTL_SECONDS = _env_int("TOKEN_TTL_SECONDS", 36000)
REFRESH_TOKEN_TTL_SECONDS = _env_int("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 60 * 60)
# Password sign-in: the dashboard's form, the token exchange with HTTP Basic and the refresh
# of the tokens that exchange issued. Off, only the identity provider signs anyone in.
PASSWORD_LOGIN = _env_bool("PASSWORD_LOGIN", True)

# Sign-in with the company's identity provider (OpenID Connect), off while OIDC_ISSUER is
# unset: the dashboard's "Sign in with ..." (authorization code flow with PKCE) and the
# provider's JWT access tokens on the API. docs/operations/configuration.md, docs/guide/tokens.md.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip()
OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip()
OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_AUDIENCE = os.environ.get("OIDC_AUDIENCE", "").strip() or OIDC_CLIENT_ID
OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "").strip() or "openid profile email"
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "").strip() or "single sign-on"
OIDC_ORGANIZATION_CLAIM = os.environ.get("OIDC_ORGANIZATION_CLAIM", "").strip()
OIDC_READ_SCOPES = frozenset(_env_list("OIDC_READ_SCOPES") or ["read"])
OIDC_WRITE_SCOPES = frozenset(_env_list("OIDC_WRITE_SCOPES") or ["write"])
OIDC_LEEWAY_SECONDS = _env_int("OIDC_LEEWAY_SECONDS", 30)
OIDC_TIMEOUT_SECONDS = _env_int("OIDC_TIMEOUT_SECONDS", 5)
OIDC_JWKS_CACHE_SECONDS = _env_int("OIDC_JWKS_CACHE_SECONDS", 3600)
OIDC_JWKS_REFRESH_SECONDS = _env_int("OIDC_JWKS_REFRESH_SECONDS", 60)
"""Fewest seconds between two fetches of the provider's keys for an unknown ``kid``."""
if OIDC_ISSUER and not OIDC_CLIENT_ID:
    raise ImproperlyConfigured("OIDC_ISSUER needs OIDC_CLIENT_ID")
if PRODUCTION and OIDC_ISSUER and not OIDC_ISSUER.startswith("https://"):
    raise ImproperlyConfigured("OIDC_ISSUER must be an https:// address in production")
if not PASSWORD_LOGIN and not OIDC_ISSUER:
    raise ImproperlyConfigured("PASSWORD_LOGIN=false needs OIDC_ISSUER: nobody could sign in")
RATE_LIMIT_PER_MINUTE = _env_int("RATE_LIMIT_PER_MINUTE", 600)
# Limits a client meets (docs/operations/security.md): a user's requests over all their tokens, the
# token exchanges of a user, and how many proxies in front set X-Forwarded-For.
USER_RATE_LIMIT_PER_MINUTE = _env_int("USER_RATE_LIMIT_PER_MINUTE", RATE_LIMIT_PER_MINUTE)
TOKEN_EXCHANGES_PER_HOUR = _env_int("TOKEN_EXCHANGES_PER_HOUR", 60)
TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)
ANSWER_CACHE_SECONDS = _env_int("ANSWER_CACHE_SECONDS", 3600)
REPORTS_PER_USER = max(1, _env_int("REPORTS_PER_USER", 4))
"""Reports that one user may have computed at once, over every worker (cached answers do
not count); more wait up to ``REPORT_WAIT_SECONDS``, then get 429 (``core.running_limits``)."""
REPORT_WAIT_SECONDS = max(0, _env_int("REPORT_WAIT_SECONDS", 5))
WORKER_THREADS = max(1, _env_int("WORKER_THREADS", max(8, 2 * (os.cpu_count() or 1) + 1)))
"""Requests that one worker process of ``serve`` runs at once: more than one, so that a
long report does not make a health check or a cheap page wait behind it. At least 8: with
granian's rule of thumb (two per core and one more, 5 on two cores) a health check waited
8.5 s behind eight heavy reports of one user, whose waiting turns hold threads too."""
WORKER_CACHE_BYTES = _env_int("WORKER_CACHE_BYTES", 64 * 1024 * 1024)
"""The most bytes of cached answers that each server worker keeps a copy of."""
MAX_UPLOAD_BYTES = _env_int("MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
"""An upload's bytes as sent, and again once inflated (gzip)."""
MAX_UPLOAD_ROWS = _env_int("MAX_UPLOAD_ROWS", 1_000_000)
"""An upload's rows (lines of a CSV, blank ones too; objects of a JSON list)."""
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # query parameters (or form fields) of one request

CORS_ALLOWED_ORIGINS = _env_list("CORS_ALLOWED_ORIGINS")
CORS_EXPOSE_HEADERS = [
    "Link",
    "ETag",
    "Retry-After",
    "Content-Disposition",
    "X-Request-ID",
    "Warning",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# `collectstatic` (which `make run` runs) writes the files with hashed names here; before it
# has run, WhiteNoise serves them unhashed from the packages (WHITENOISE_USE_FINDERS).
STATIC_ROOT = os.environ.get("STATIC_ROOT") or str(VAR_DIR / "static")
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "marketing_op.dashboard.static_storage.HashedStaticFiles"},
}
WHITENOISE_USE_FINDERS = True

# The dashboard's sign-in: a server-side session in a cookie that scripts cannot read
# (HttpOnly), sent on same-site navigation only (Lax), over HTTPS only in production.
SESSION_ENGINE = "marketing_op.dashboard.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = _env_int("SESSION_COOKIE_AGE", 10 * 60 * 60)
CSRF_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "dashboard:sign-in"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "dashboard:sign-in"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or ("json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "marketing_op.core.logs.JsonFormatter"},
        "plain": {"()": "marketing_op.core.logs.PlainFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own handlers (its plain console lines under DEBUG, runserver's lines) are
    # replaced by the root's: every line in LOG_FORMAT. Python's warnings are logged too
    # (core.apps).
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# /metrics (Prometheus' text format): with a token, only for `Authorization: Bearer <token>`;
# without one, open in development and not served (404) in production.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
# Where `marketing-op serve`'s workers count their metrics (emptied at its start); by default
# var/metrics/<port>.
METRICS_DIRECTORY = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()

DEMO_ORGANIZATION = os.environ.get("DEMO_ORGANIZATION", "demo")
DEMO_USERNAME = os.environ.get("DEMO_USERNAME", "marketing_op")
# The demo login that the contract documents; load-demo refuses to run in production.
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "marketing_op_supersecret")
