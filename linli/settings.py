"""Linli's one settings module.

Every knob is an environment variable with a safe default (see docs/operations.md for the list).
Secrets are never in the repository: in development (LINLI_DEBUG=1, the default for `make run`)
missing secrets are generated once into ``var/`` (git-ignored); in production they must be set.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from linli.core import clock
from linli.core.env import env_bool, env_choice, env_float, env_int, env_list, env_str

# Every "now" comes from linli.core.clock (tests and the demo can move it); Django's own
# timezone.now must be routed through it before any model class is built.
clock.patch_django()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LINLI_VAR_DIR", BASE_DIR / "var"))


# Development conveniences (LINLI_DEBUG=1, which `make` sets): secrets generated once into var/,
# static files served from the source folders, cookies without the Secure flag, no HTTPS redirect.
# Never in production. Django's own DEBUG (technical 404/500 pages with tracebacks and settings,
# template debugging) is a separate switch, LINLI_TECHNICAL_ERRORS (default off), honoured only
# together with LINLI_DEBUG=1: `make run` shows Linli's own 404/500 pages like production does.
LINLI_DEV = env_bool("LINLI_DEBUG", False)
DEBUG = LINLI_DEV and env_bool("LINLI_TECHNICAL_ERRORS", False)


def _private_dir(path: Path) -> None:
    """Create a directory only its owner can enter (0700); an existing one is left as it is."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)


def _private_file(path: Path) -> None:
    """Create an empty file only its owner can read (0600), or take group/other access away from an
    existing one we own (SQLite gives its -wal/-shm files the database file's mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if each.exists() and each.stat().st_mode & 0o077:
                each.chmod(0o600)
        except OSError:  # not ours to change (e.g. a shared read-only file); leave it
            pass


def _secret(name: str, make: object) -> str:
    """Read a secret from the environment, or (development only, LINLI_DEBUG=1) from var/<name>,
    creating it once with mode 0600. In production a missing secret is always an error."""
    value = os.environ.get(name.upper())
    if value:
        return value
    if not LINLI_DEV:
        raise ImproperlyConfigured(
            f"{name.upper()} is not set. 生产环境必须设置该环境变量 / set it in production (docs/operations.md)."
        )
    _private_dir(VAR_DIR)
    path = VAR_DIR / name.lower()
    if not path.exists():
        assert callable(make)
        _private_file(path)
        path.write_text(make())
    return path.read_text().strip()


SECRET_KEY = _secret("LINLI_SECRET_KEY", lambda: secrets.token_urlsafe(50))
# Key(s) for personal data encrypted at rest (ID numbers, phones). Comma-separated Fernet keys:
# the first encrypts, all decrypt, so keys can be rotated (docs/operations.md).
FIELD_ENCRYPTION_KEYS = _secret("LINLI_FIELD_KEYS", lambda: Fernet.generate_key().decode()).split(",")

ALLOWED_HOSTS = env_list("LINLI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("LINLI_CSRF_TRUSTED_ORIGINS", "")
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks; linli/core/net.py).
# Empty = none: the peer address is the client (rate limits and sign-in lockouts are keyed on it).
LINLI_TRUSTED_PROXIES = env_list("LINLI_TRUSTED_PROXIES", "")

INSTALLED_APPS = [
    # First, so that its ``runserver`` (linli/core/servers.py: no 40 ms stall per answer) is the one
    # manage.py runs rather than django.contrib.staticfiles'; it overrides no template or static file.
    "linli.core",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    # Content-Security-Policy header on every response (django-csp; CONTENT_SECURITY_POLICY below)
    "csp",
    # Sign-in lockout after repeated failures (django-axes; linli/accounts/lockout.py)
    "axes",
    # Background work: Django's task API (the django.tasks backport) and its database backend
    "django_tasks",
    "django_tasks_db",
    "linli.accounts",
    "linli.runs",
    "linli.notify",
    "linli.places",
    "linli.renewal",
    "linli.consult",
    "linli.governance",
    "linli.dashboard",
    "linli.workbench",
    "linli.sensing",
    "linli.jobs",
    "linli.open311",
    "linli.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy header (django-csp)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns a sign-in refused by the lockout into the lockout page (after AuthenticationMiddleware).
    "axes.middleware.AxesMiddleware",
    "linli.core.middleware.BodySizeErrorMiddleware",
]

# Machine endpoints (Open311 clients: api_key in the request, XML/JSON answers) go through a lean
# stack without sessions, users, CSRF, messages, the page CSP or static files (linli/core/handlers.py,
# docs/open311.md): about a sixth less CPU per request. Same views, URLs and error handling. The
# sensors' HTTP intake (bearer tokens, JSON; docs/sensing.md) is one too.
LINLI_LEAN_PATHS = ("/open311/", "/sensing/telemetry/")
LINLI_LEAN_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "linli.core.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "linli.core.middleware.BodySizeErrorMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "linli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "linli.core.context.site",
                "linli.accounts.context.nav",
                "linli.accounts.context.elder",
                "linli.notify.context.unread",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# SQLite (embedded, the default) or PostgreSQL: DATABASE_URL=postgres://user:pass@host:5432/linli
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'linli.sqlite3'}"
if DATABASE_URL.startswith("sqlite"):
    _private_dir(VAR_DIR)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("LINLI_DB_CONN_MAX_AGE", 60, minimum=0))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while one writer writes; IMMEDIATE makes a writing transaction take
    # the write lock at BEGIN, so two writers queue (busy timeout) instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The database file holds people's data: created 0600 before SQLite opens it (its -wal/-shm
    # files then get the same mode), and an existing one readable by others is narrowed to 0600.
    _sqlite_name = str(DATABASES["default"]["NAME"] or "")
    if _sqlite_name and _sqlite_name != ":memory:" and not _sqlite_name.startswith("file:"):
        _private_dir(Path(_sqlite_name).parent)
        _private_file(Path(_sqlite_name))
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("LINLI_DB_PREPARE", True):
    # Django turns psycopg's prepared statements off (prepare_threshold None) for poolers. Linli
    # prepares only the statements of its hot paths, explicitly (linli/core/prepared.py: the Open311
    # intake's snapping SELECT and event INSERT), which takes a threshold that is not None; Django's
    # own queries go through client-side binding and are never prepared, whatever the threshold.
    # Measured: the intake's database CPU 2.7 → 1.55 ms per report (docs/open311.md). Behind a pooler
    # in transaction mode without prepared-statement support (PgBouncer < 1.21): LINLI_DB_PREPARE=0.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and shared store (docs/operations.md "Shared state for many app servers") ---------------
# LINLI_CACHE_URL=redis://127.0.0.1:6379/0: the "default" cache is Redis (Django's RedisCache),
# shared by every app process and server — the rate-limit counters (atomic INCR,
# linli/core/ratelimit.py) and the generations that tell every process to drop its in-memory api
# keys and categories (linli/core/generations.py). Unset (the embedded default, one process):
# "default" is local memory, and rate limits count in database rows (core.RateCounter) so that a
# second process would still share them. Run more than one app process only with LINLI_CACHE_URL.
LINLI_CACHE_URL = env_str("LINLI_CACHE_URL", "")
LINLI_CACHE_TIMEOUT_SECONDS = env_float("LINLI_CACHE_TIMEOUT_SECONDS", 2.0, minimum=0.1)  # per Redis call
CACHES: dict[str, dict[str, object]] = {
    "default": (
        {
            "BACKEND": "linli.core.cache.RedisCache",  # Django's RedisCache, one client per pool
            "LOCATION": LINLI_CACHE_URL,
            "KEY_PREFIX": "linli",
            "OPTIONS": {
                "socket_connect_timeout": LINLI_CACHE_TIMEOUT_SECONDS,
                "socket_timeout": LINLI_CACHE_TIMEOUT_SECONDS,
            },
        }
        if LINLI_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
}

# --- Background work (linli/runs, docs/runs.md) -------------------------------------------------
# Long work (imports, exports, PDFs, sweeps) runs as tasks through Django's task API (django-tasks,
# the django.tasks backport). LINLI_TASKS_BACKEND=db (default): the task is a database row and
# `manage.py linli_worker` (db_worker + the reaper of killed runs) runs it; N workers on PostgreSQL
# share the queue with SELECT ... SKIP LOCKED, no broker. `immediate` runs it inside the request
# (tests, a one-off shell). Result files live in LINLI_VAR_DIR/runs/ (never web-served directly)
# for LINLI_RUN_FILE_HOURS; a running task whose heartbeat is older than LINLI_RUN_STALE_SECONDS
# counts as dead (its worker was killed) and is retried up to LINLI_RUN_ATTEMPTS attempts in all.
LINLI_TASKS_BACKEND = env_choice("LINLI_TASKS_BACKEND", "db", ("db", "immediate"))
TASKS = {
    "default": {
        "BACKEND": {
            "db": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[LINLI_TASKS_BACKEND],
    }
}
LINLI_RUN_DIR = VAR_DIR / "runs"
LINLI_RUN_FILE_HOURS = env_float("LINLI_RUN_FILE_HOURS", 24, minimum=0)
LINLI_RUN_STALE_SECONDS = env_int("LINLI_RUN_STALE_SECONDS", 60, minimum=5)
LINLI_RUN_ATTEMPTS = env_int("LINLI_RUN_ATTEMPTS", 3, minimum=1)
# Notice PDFs (docs/consult.md "Exports and the notice PDF in the background"): rendered once per
# published version by the task consult.tasks.render_notice_pdf into LINLI_VAR_DIR/notice-pdfs/,
# never web-served directly (the notice_pdf view serves them after its permission check). A cache:
# each file can be rendered again from the notice's snapshot, so it needs no backup. A public
# project's PDF prints the site's address: the first LINLI_CSRF_TRUSTED_ORIGINS entry.
LINLI_NOTICE_PDF_DIR = VAR_DIR / "notice-pdfs"
# Live progress of a running task, shared by the web and worker processes (a task's writes are one
# transaction, so its progress cannot be committed rows): a file cache under var/ in the embedded
# default, the Redis cache when LINLI_CACHE_URL is set.
CACHES["progress"] = (
    {
        "BACKEND": "linli.core.cache.RedisCache",  # one client per pool (the roll-up flag is set per save)
        "LOCATION": LINLI_CACHE_URL,
        "KEY_PREFIX": "linli-progress",
    }
    if LINLI_CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "progress"),
        "OPTIONS": {"MAX_ENTRIES": 10000},
    }
)

# --- Accounts -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# The lockout backend first: it refuses a locked account/address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "linli.accounts.backends.SmsCodeBackend",  # sign in with a one-time SMS code (docs/accounts.md)
]
# --- Sign-in lockout (django-axes; docs/operations.md "Sign-in lockout and rate limits") ---------
# LINLI_LOGIN_FAILURES wrong passwords for one account (from anywhere) within the cool-off lock that
# account; LINLI_LOGIN_ADDRESS_FAILURES wrong passwords from one client address (any accounts) lock
# that address. Both for LINLI_LOGIN_LOCK_MINUTES after the last failure; a worker or admin unlocks
# sooner (admin "Access attempts", or `manage.py axes_reset_username NAME`). Failures are rows in
# the database, so every app process and server sees the same count.
LINLI_LOGIN_FAILURES = env_int("LINLI_LOGIN_FAILURES", 5, minimum=1)
LINLI_LOGIN_ADDRESS_FAILURES = env_int("LINLI_LOGIN_ADDRESS_FAILURES", 30, minimum=1)
LINLI_LOGIN_LOCK_MINUTES = env_float("LINLI_LOGIN_LOCK_MINUTES", 15, minimum=0)
AXES_ENABLED = True
AXES_HANDLER = "linli.accounts.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = LINLI_LOGIN_FAILURES
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # the handler weighs each against its own limit
AXES_COOLOFF_TIME = LINLI_LOGIN_LOCK_MINUTES / 60  # hours (a float)
AXES_RESET_ON_SUCCESS = True  # a successful sign-in clears that account's failures (not the address's)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock ends at a time the page can name
AXES_CLIENT_IP_CALLABLE = "linli.core.net.client_ip"  # trusted proxies only (LINLI_TRUSTED_PROXIES)
AXES_LOCKOUT_CALLABLE = "linli.accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "workbench:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("LINLI_SESSION_SECONDS", 8 * 3600, minimum=1)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "linli.core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not LINLI_DEV:
    SESSION_COOKIE_SECURE = env_bool("LINLI_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # The reverse proxy terminates TLS and must set (overwrite) X-Forwarded-Proto (docs/operations.md).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Plain-HTTP requests are redirected to HTTPS (LINLI_SSL_REDIRECT=0 when the proxy already
    # redirects, or on a closed network served without TLS: then set LINLI_HSTS_SECONDS=0 too).
    SECURE_SSL_REDIRECT = env_bool("LINLI_SSL_REDIRECT", True)
    # HSTS: browsers use HTTPS only, for LINLI_HSTS_SECONDS (default one year). Sub-domains and the
    # browsers' preload list are opt-in (LINLI_HSTS_INCLUDE_SUBDOMAINS, LINLI_HSTS_PRELOAD): both
    # bind hosts and a future that a district's IT may not control.
    SECURE_HSTS_SECONDS = env_int("LINLI_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("LINLI_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("LINLI_HSTS_PRELOAD", False)
    # `check --deploy` warns about those two opt-ins (W005, W021) — a decision, not an oversight.
    SILENCED_SYSTEM_CHECKS = [
        *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
        *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    ]

# --- Language and time ----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
USE_I18N = True
TIME_ZONE = env_str("LINLI_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- Static files (vendor assets come from npm, see Makefile `assets`) ----------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("LINLI_STATIC_ROOT", BASE_DIR / "var" / "static"))
STATICFILES_DIRS = [BASE_DIR / "linli" / "static", ("vendor", BASE_DIR / "build" / "vendor")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if LINLI_DEV
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Development serves static files straight from the source folders (no collectstatic), picking up
# changes; production serves what collectstatic wrote (hashed names, cached for a year).
WHITENOISE_USE_FINDERS = LINLI_DEV
WHITENOISE_AUTOREFRESH = LINLI_DEV
MEDIA_ROOT = Path(os.environ.get("LINLI_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

# --- Uploads --------------------------------------------------------------------------------------
# Imports of a whole street's roster are large; anything above this is refused with a clear 413.
LINLI_MAX_UPLOAD_BYTES = env_int("LINLI_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = LINLI_MAX_UPLOAD_BYTES
# An uploaded roster or boundary file waits this long for a worker to confirm it (docs/import.md).
LINLI_IMPORT_PREVIEW_HOURS = env_float("LINLI_IMPORT_PREVIEW_HOURS", 24, minimum=0)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# --- Maps -----------------------------------------------------------------------------------------
# Empty = no tiles: maps draw GeoJSON outlines on a blank background (works offline). A tile URL in
# GCJ-02 (e.g. a Chinese provider) needs LINLI_MAP_TILE_CRS=gcj02 so WGS-84 outlines are shifted.
LINLI_MAP_TILE_URL = env_str("LINLI_MAP_TILE_URL", "")
LINLI_MAP_TILE_ATTRIBUTION = env_str("LINLI_MAP_TILE_ATTRIBUTION", "")
LINLI_MAP_TILE_CRS = env_choice("LINLI_MAP_TILE_CRS", "wgs84", ("wgs84", "gcj02"))


def _tile_source(url: str) -> list[str]:
    """The CSP source of the map tile host: https://{s}.tile.example.org/... → https://*.tile.example.org."""
    if not url:
        return []
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = re.sub(r"^\{[^}]*\}\.", "*.", parts.netloc)
    if not parts.scheme or "{" in host:
        return [f"{parts.scheme or 'https'}:"]
    return [f"{parts.scheme}://{host}"]


# --- Content-Security-Policy (django-csp 4; docs/operations.md "Production hardening") -----------
# Scripts only from this site (no inline scripts: page behaviours live in static .js files), no
# plugins, no framing, forms post only here. Style sheets come from this site too (no <style>
# elements: a nonce cannot work for page parts htmx swaps in); style *attributes* are allowed
# ('unsafe-inline' for style-src-attr only) because a few widths, colours and column counts are
# data (bars, legend keys); CSS in an attribute cannot run script, and img-src limits where CSS
# could load from. The API docs pages relax style-src (linli/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *_tile_source(LINLI_MAP_TILE_URL)],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    },
}

# --- API ------------------------------------------------------------------------------------------
# The most rows one API list page may return (?limit= above it is refused with a 400), env
# LINLI_API_MAX_LIMIT.
LINLI_API_MAX_LIMIT = env_int("LINLI_API_MAX_LIMIT", 500, minimum=1)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # HTTP Basic with the sign-in lockout: a locked account gets the house 429 (linli/accounts/lockout.py)
        "linli.accounts.lockout.LockoutBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["linli.core.drf.SignedIn"],
    # drf-spectacular's, with the house's schema extensions (linli/core/schema.py)
    "DEFAULT_SCHEMA_CLASS": "linli.core.schema.AutoSchema",
    # limit/offset checked by the one bounded parser; limit capped at LINLI_API_MAX_LIMIT (linli/core/drf.py)
    "DEFAULT_PAGINATION_CLASS": "linli.core.drf.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "linli.core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        # counted in the shared rate-limit store, keyed on linli.core.net.client_ip (linli/core/ratelimit.py)
        "linli.core.ratelimit.AnonThrottle",
        "linli.core.ratelimit.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("LINLI_API_ANON_RATE", "60/minute"),
        "user": env_str("LINLI_API_USER_RATE", "6000/minute"),
    },
}
# The OpenAPI schema (/api/v1/schema/) and its docs pages (/api/v1/docs/, /api/v1/redoc/) need a
# signed-in user; LINLI_API_DOCS_PUBLIC=1 opens them to everyone (linli/urls.py).
LINLI_API_DOCS_PUBLIC = env_bool("LINLI_API_DOCS_PUBLIC", False)
SPECTACULAR_SETTINGS = {
    "TITLE": "Linli 邻里 API",
    "DESCRIPTION": "Place tree, rosters and roles of a district. 区—街道—社区—小区—楼栋—单元—房屋。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its Swagger/Redoc pages are for signed-in users unless LINLI_API_DOCS_PUBLIC=1.
    "SERVE_PERMISSIONS": ["linli.core.drf.ApiDocsAccess"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
    # Ids in API paths are <linli_id:…> (linli/core/ids.py IdConverter): whole numbers a database key holds.
    "PATH_CONVERTER_OVERRIDES": {"linli_id": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}},
    # The house errors on every operation, bounded ids, JSON bodies (linli/core/schema.py, docs/api.md).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "linli.core.schema.postprocess"],
}

# --- Logging --------------------------------------------------------------------------------------
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LINLI_LOG_LEVEL", "INFO", LOG_LEVELS),
    },
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Domain defaults (configurable per deployment; see docs/rules.md) ---------------------------------
# Grid size band (rules.md §4: 300–500 households, from the seed article, not a standard).
LINLI_GRID_MIN_HOUSEHOLDS = env_int("LINLI_GRID_MIN_HOUSEHOLDS", 300, minimum=1)
LINLI_GRID_MAX_HOUSEHOLDS = env_int("LINLI_GRID_MAX_HOUSEHOLDS", 500, minimum=1)
# Renovation eligibility, 国办发〔2020〕23号: built before the end of 2000.
# Grid events (issue 4): a reported position snaps to the nearest registered building within this
# many metres (farther = outside the jurisdiction); open events of the same category within the
# second distance are offered as possible duplicates.
LINLI_EVENT_SNAP_METRES = env_int("LINLI_EVENT_SNAP_METRES", 300, minimum=0)
LINLI_EVENT_DUPLICATE_METRES = env_int("LINLI_EVENT_DUPLICATE_METRES", 100, minimum=0)
# The public map of reported problems (issue 12 §9, docs/governance.md "Residents take part"): these
# categories are never shown there (anything about a person; Open311's private ones are always added),
# at most this many problems per map answer, each answer cached for this many seconds.
LINLI_PUBLIC_MAP_HIDDEN_CATEGORIES = env_list(
    "LINLI_PUBLIC_MAP_HIDDEN_CATEGORIES", "E0206,E0207,E0209,E0210,E0211,E0212,E0213,E0214"
)
LINLI_PUBLIC_MAP_LIMIT = env_int("LINLI_PUBLIC_MAP_LIMIT", 500, minimum=1)
LINLI_PUBLIC_MAP_CACHE_SECONDS = env_int("LINLI_PUBLIC_MAP_CACHE_SECONDS", 60, minimum=0)
# Open311 GeoReport v2 (docs/open311.md): api keys, categories and districts are cached in each
# process for this many seconds; events of these categories are never listed publicly (only by id,
# without place or description); at most this many requests per GET requests page.
LINLI_OPEN311_CACHE_SECONDS = env_float("LINLI_OPEN311_CACHE_SECONDS", 30, minimum=0)
LINLI_OPEN311_PRIVATE_CATEGORIES = env_list("LINLI_OPEN311_PRIVATE_CATEGORIES", "E0206,E0209,E0210,E0211,E0212")
LINLI_OPEN311_MAX_REQUESTS = env_int("LINLI_OPEN311_MAX_REQUESTS", 1000, minimum=1)
LINLI_OPEN311_CONTACT = env_str(
    "LINLI_OPEN311_CONTACT", "区城市运行管理中心 District city operations centre: 023-12345"
)
LINLI_OPEN311_KEY_SERVICE = env_str(
    "LINLI_OPEN311_KEY_SERVICE",
    "api_key 由区管理员签发(manage.py open311_key create)。 Keys are issued by the district's administrators.",
)

LINLI_RENOVATION_BUILT_BEFORE_YEAR = env_int("LINLI_RENOVATION_BUILT_BEFORE_YEAR", 2001, minimum=1)
# Public notice period 公示期 (rules.md §2: 15 days by default, Jinan; other cities 7–15).
LINLI_NOTICE_DAYS = env_int("LINLI_NOTICE_DAYS", 15, minimum=1)
# Objections a single address may file per hour on the public notice form.
LINLI_OBJECTION_RATE_PER_HOUR = env_int("LINLI_OBJECTION_RATE_PER_HOUR", 5, minimum=1)
# Owner verification (issue 8, docs/ballots.md "Who votes online"): the SMS sender (a dotted path;
# the console backend prints the message with the phone masked), how long a one-time code is valid,
# the wait between two codes, codes per hour (per person and per account), wrong codes before the
# lock (a worker unlocks), and ID-number checks one account may make per hour.
LINLI_SMS_BACKEND = env_str("LINLI_SMS_BACKEND", "linli.core.sms.ConsoleBackend")
LINLI_OTP_SECONDS = env_int("LINLI_OTP_SECONDS", 300, minimum=1)
LINLI_OTP_RESEND_SECONDS = env_int("LINLI_OTP_RESEND_SECONDS", 60, minimum=0)
LINLI_OTP_PER_HOUR = env_int("LINLI_OTP_PER_HOUR", 5, minimum=1)
LINLI_OTP_MAX_FAILURES = env_int("LINLI_OTP_MAX_FAILURES", 5, minimum=1)

# --- Notifications (linli/notify, docs/notifications.md) ------------------------------------------
# The signature 短信签名 put before every notification SMS (the one registered with the SMS provider).
LINLI_SMS_SIGN = env_str("LINLI_SMS_SIGN", "邻里")
# WeChat subscription messages: the backend class, the template id chosen in the mini program's
# console (fields thing1 title, time2 time, thing3 text) and the mini program page that opens a Linli path.
LINLI_WECHAT_BACKEND = env_str("LINLI_WECHAT_BACKEND", "linli.notify.wechat.ConsoleBackend")
LINLI_WECHAT_TEMPLATE_ID = env_str("LINLI_WECHAT_TEMPLATE_ID", "")
LINLI_WECHAT_PAGE = env_str("LINLI_WECHAT_PAGE", "pages/web/index")
LINLI_OWNER_ID_TRIES_PER_HOUR = env_int("LINLI_OWNER_ID_TRIES_PER_HOUR", 10, minimum=1)
# Sign-in and password-reset codes (docs/accounts.md) use the OTP settings above per phone number,
# and at most this many codes per hour from one client address.
LINLI_OTP_PER_ADDRESS_HOUR = env_int("LINLI_OTP_PER_ADDRESS_HOUR", 20, minimum=1)

# --- Sensing (linli/sensing, issue 13, docs/sensing.md) --------------------------------------------
# The intake (HTTP batch and MQTT, one pipeline): at most this many readings in one batch (more is a
# 413), a reading's timestamp at most this many seconds ahead of the server's clock (more: future_ts),
# at most this many readings per device and minute (the excess is dropped and reported; counted in
# the shared cache so it holds across app servers), at most this many per-reading errors listed in a
# report (the rest only counted), and seconds a process keeps a token it has looked up (a switched-off
# token stops at once everywhere: the shared cache tells every process).
LINLI_SENSING_MAX_BATCH = env_int("LINLI_SENSING_MAX_BATCH", 10_000, minimum=1)
LINLI_SENSING_MAX_SKEW_S = env_int("LINLI_SENSING_MAX_SKEW_S", 300, minimum=0)
LINLI_SENSING_DEVICE_MAX_PER_MIN = env_int("LINLI_SENSING_DEVICE_MAX_PER_MIN", 600, minimum=1)
LINLI_SENSING_MAX_ERRORS = env_int("LINLI_SENSING_MAX_ERRORS", 100, minimum=1)
LINLI_SENSING_TOKEN_CACHE_SECONDS = env_float("LINLI_SENSING_TOKEN_CACHE_SECONDS", 60, minimum=0)
# The MQTT intake (manage.py sensing_mqtt, docs/sensing.md "MQTT"): the broker it subscribes on, its
# login (the password only here, never on a command line) and TLS; the command's options override.
LINLI_MQTT_HOST = env_str("LINLI_MQTT_HOST", "127.0.0.1")
LINLI_MQTT_PORT = env_int("LINLI_MQTT_PORT", 1883, minimum=1)
LINLI_MQTT_USERNAME = env_str("LINLI_MQTT_USERNAME", "")
LINLI_MQTT_PASSWORD = env_str("LINLI_MQTT_PASSWORD", "")
LINLI_MQTT_TLS = env_bool("LINLI_MQTT_TLS", False)
# Sensing storage (services/storage.py, manage.py sensing_storage hourly, docs/operations.md "Sensor
# data"): raw readings are kept this many days (PostgreSQL drops whole day partitions), hourly roll-ups
# this many days (3 years), partitions are made this many days ahead, and each hourly roll-up also
# rolls the hours this many before its watermark again (readings arriving a little late).
LINLI_SENSING_RAW_DAYS = env_int("LINLI_SENSING_RAW_DAYS", 30, minimum=1)
LINLI_SENSING_HOURLY_DAYS = env_int("LINLI_SENSING_HOURLY_DAYS", 3 * 365, minimum=1)
LINLI_SENSING_PARTITIONS_AHEAD = env_int("LINLI_SENSING_PARTITIONS_AHEAD", 3, minimum=1, maximum=60)
LINLI_SENSING_ROLLUP_REDO_HOURS = env_int("LINLI_SENSING_ROLLUP_REDO_HOURS", 2, minimum=0, maximum=168)

# --- Nearby employment (linli/jobs, issue 14, docs/jobs.md) ------------------------------------------
# The kiosk at /kiosk/ (docs/jobs.md "The kiosk"): a session ends after this many seconds idle; an SMS
# sign-in code lives this many seconds, may be sent again after this many and this many times an hour;
# this many wrong codes lock the ID's kiosk sign-in for this many minutes. LINLI_KIOSK_STREET: the id of
# the street a kiosk stands in (new seekers registered there belong to it); empty: staff set it once per
# kiosk with /kiosk/?street=<id>, or the person picks their street.
LINLI_KIOSK_IDLE_SECONDS = env_int("LINLI_KIOSK_IDLE_SECONDS", 60, minimum=5)
LINLI_KIOSK_CODE_SECONDS = env_int("LINLI_KIOSK_CODE_SECONDS", 300, minimum=30)
LINLI_KIOSK_RESEND_SECONDS = env_int("LINLI_KIOSK_RESEND_SECONDS", 60, minimum=0)
LINLI_KIOSK_CODES_PER_HOUR = env_int("LINLI_KIOSK_CODES_PER_HOUR", 5, minimum=1)
LINLI_KIOSK_MAX_FAILURES = env_int("LINLI_KIOSK_MAX_FAILURES", 5, minimum=1)
LINLI_KIOSK_LOCK_MINUTES = env_int("LINLI_KIOSK_LOCK_MINUTES", 15, minimum=1)
LINLI_KIOSK_STREET = env_int("LINLI_KIOSK_STREET", 0, minimum=0) or None

SITE_NAME = _("Linli")
