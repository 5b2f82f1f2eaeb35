"""Settings shared by every environment.

With no configuration at all this runs as a development instance on an
embedded SQLite database, so a newcomer can try the product at once.
`production.py` tightens everything that matters on a real server.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Development-only key; production.py refuses to start without a real one.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
# 回避登记 keeps staff's and relatives' ID numbers only as HMAC-SHA256 under
# this key (cases/kin.py). Unset, a key derived from SECRET_KEY is used;
# changing it makes every registration stale (docs/conflict-of-interest.md).
KIN_ID_HASH_KEY = env.str("KIN_ID_HASH_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "pgtrigger",
    # The API (/api/v1/, accounts/api) and its OpenAPI schema and docs; the
    # sidecar serves Swagger UI from the package, not from a CDN.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "cases",
    "funds",
    "programs",
    "reports",
    # Demo data and its commands (seed_demo, seed_demo_money,
    # generate_households); production.py leaves it out.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ from the app server itself: intranet installs often have
    # no separate web server to hand static files to.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks the session verified once the second factor was given.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.RequestContextMiddleware",
    # Sends chairs, finance and administrators to the second factor first.
    "accounts.otp.SecondFactorMiddleware",
    # Axes must come last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "accounts.context_processors.roles",
                "accounts.context_processors.shell",
            ],
        },
    },
]


def _database(url: str | None) -> dict:
    if not url:
        sqlite_path = Path(env.str("SQLITE_PATH", default=str(BASE_DIR / "var" / "db.sqlite3")))
        # SQLite creates the file but not its folder; a fresh clone has no var/.
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        # Embedded default: WAL lets readers and one writer work side by side,
        # and IMMEDIATE transactions take the write lock up front so two
        # writers queue instead of failing half-way with "database is locked".
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
        }
    db = env.db_url_config(url)
    if db["ENGINE"] == "django.db.backends.postgresql":
        options = db.setdefault("OPTIONS", {})
        if env.bool("DB_PREPARED", default=False):
            # Web processes only (docs/operations.md): parameters go apart
            # from the SQL, and a statement run again on a pooled connection
            # is planned once. Migrations, retention_sweep (pgtrigger.ignore)
            # and other multi-statement SQL need the default.
            options["server_side_binding"] = True
            options["prepare_threshold"] = env.int("DB_PREPARE_THRESHOLD", default=5)
        if env.bool("DB_POOL", default=True):
            options["pool"] = {
                "min_size": env.int("DB_POOL_MIN", default=2),
                "max_size": env.int("DB_POOL_MAX", default=20),
                "timeout": 10,
            }
            db["CONN_MAX_AGE"] = 0  # the pool owns connection lifetime
    return db


DATABASES = {"default": _database(env.str("DATABASE_URL", default="") or None)}
# A read-only copy of the database (PostgreSQL streaming replication) for
# statistics and exports; accounts.db.ReplicaRouter sends only their reads
# there, every write and every other read goes to "default".
_replica_url = env.str("DATABASE_REPLICA_URL", default="")
if _replica_url:
    DATABASES["replica"] = _database(_replica_url)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
REPLICA_READS = bool(_replica_url)
DATABASE_ROUTERS = ["accounts.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.DemoPasswordValidator"},
]
# The demo password seed_demo publishes is refused whenever DEBUG is off
# (accounts.passwords; PASSWORD_REFUSE_DEMO = True/False overrides).
# Argon2 first: at the cost Django sets for it a sign-in takes about 170 ms
# here against about 410 ms for PBKDF2 with its 1,000,000 rounds, and it is
# memory-hard, which PBKDF2 is not (docs/benchmarks.md). Hashes made with the
# older hashers still verify and are upgraded at the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# How many reverse proxies in front of the app append to X-Forwarded-For.
# 0: the header is ignored and the connecting address is the client's. N: the
# client is the N-th entry from the right (accounts.middleware.client_ip).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Lock out a username from one client address after repeated failures, with a
# cool-off; and an address after LOGIN_FAILURES_PER_ADDRESS failures across
# all usernames in the same window (accounts.lockout).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.middleware.client_ip"
AXES_HANDLER = "accounts.lockout.AddressLimitHandler"

# Second factor (TOTP, django-otp) for the roles that move money or administer
# the system; superusers count as administrators. Recovery codes are
# django-otp static tokens.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=["chair", "finance", "admin"])
# On the development instance (`make run`, DEBUG on when these settings load)
# whoever signs in with the published demo password skips the second factor;
# everyone else is asked as in production. production.py and test.py turn it
# off whatever the environment says.
OTP_EXEMPT_DEMO = DEBUG and env.bool("OTP_EXEMPT_DEMO", default=True)
OTP_RECOVERY_CODES = 10
OTP_TOTP_ISSUER = "工会帮扶"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))

# Attachments (ID cards, diagnoses, bank cards) never live under a served path:
# they are read back only through a permission-checked view.
PRIVATE_STORAGE_ROOT = Path(
    env.str("PRIVATE_STORAGE_ROOT", default=str(BASE_DIR / "var" / "private"))
)


def _private_storage(root: Path) -> dict:
    """The `private` storage: attachments, visit photos, minutes, signed
    sheets, uploads waiting for confirmation and job results. A folder by
    default (on several app servers, one folder they all mount), or with
    PRIVATE_STORAGE_BACKEND=s3 a private bucket of any S3-compatible object
    store. Keys come from the environment the way boto3 reads them
    (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or from the server's role."""
    backend = env.str("PRIVATE_STORAGE_BACKEND", default="filesystem")
    if backend == "filesystem":
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        }
    if backend != "s3":
        raise ImproperlyConfigured("PRIVATE_STORAGE_BACKEND must be filesystem or s3.")
    bucket = env.str("PRIVATE_S3_BUCKET", default="") or env.str(
        "AWS_STORAGE_BUCKET_NAME", default=""
    )
    if not bucket:
        raise ImproperlyConfigured("Set PRIVATE_S3_BUCKET to the bucket for private files.")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": env.str("PRIVATE_S3_PREFIX", default=""),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            # Nothing is public; a file goes out only through a view that
            # checked rights, and two uploads never overwrite each other.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": False,
        },
    }


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": _private_storage(PRIVATE_STORAGE_ROOT),
}
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Anything larger than this is cut off by Django before it reaches a form.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send the token header
X_FRAME_OPTIONS = "DENY"

HOUSEHOLD_PAGE_SIZE = 25
# Seconds each process keeps the unions, tiers and causes of the list filters
# (accounts/refcache.py); 0 reads them on every page.
REFERENCE_CACHE_SECONDS = env.int("REFERENCE_CACHE_SECONDS", default=60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Background jobs (big exports, imports, batch PDFs) go through the Django
# Tasks API into a database queue; `manage.py db_worker` runs them (`make run`
# starts one beside the development server).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A running job with no progress for this long lost its worker: it is marked
# failed and its owner may start it again.
JOB_STALE_AFTER_MINUTES = env.int("JOB_STALE_AFTER_MINUTES", default=15)

# 民政数据比对 (reports/civil): column layouts of the file sent to civil
# affairs beside the shipped "household" and "person" ones, by key (see
# reports/civil/layouts.py and docs/civil-affairs.md).
CIVIL_AFFAIRS_LAYOUTS: dict[str, dict[str, object]] = {}

# Statistics (reports/stats_snapshot.py): a union whose subtree holds more
# households than this reads its figures from a snapshot rebuilt in the
# background (数据截至) instead of counting them on every request; a
# snapshot older than the age below is shown marked as old while it is
# rebuilt.
STATISTICS_LIVE_MAX_HOUSEHOLDS = env.int("STATISTICS_LIVE_MAX_HOUSEHOLDS", default=20000)
STATISTICS_SNAPSHOT_MAX_AGE_MINUTES = env.int("STATISTICS_SNAPSHOT_MAX_AGE_MINUTES", default=60)

# The API (/api/v1/, accounts/api): per-user tokens only (never the session
# cookie, so no other site can call it from a signed-in browser), cursor
# pages, a rate limit per token, errors as JSON with the field named.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/hour")
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=50)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.policies.CursorPage",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api.policies.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_token": API_RATE_LIMIT},
    "EXCEPTION_HANDLER": "accounts.api.base.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # What each endpoint takes is in the schema; OPTIONS answers 405.
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "工会困难职工帮扶 API",
    "DESCRIPTION": "只读查询与走访、帮扶申请的提交。说明见 docs/api.md。",
    "VERSION": "1.0.0",
    # 3.1: a field that may be null is said so exactly, also for an object
    # (3.0's `nullable` beside a $ref is read differently by different tools).
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Fields of the same name with different choices get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "HouseholdStatusEnum": "cases.models.HouseholdStatus",
        "VisitKindEnum": "cases.models.VisitKind",
        "EntryKindEnum": "funds.models.EntryKind",
        "ApplicationStatusEnum": "programs.models.ApplicationStatus",
        "ProgramKindEnum": "programs.models.config.Kind",
    },
}
