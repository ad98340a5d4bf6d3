"""Settings of the ATMP catalogue: one module, every deployment difference an environment variable.

The variables are those of ``.env.example`` (and of ``docker-compose.yml``). Settings read the
process environment only and start nothing: ``manage.py`` and the test plugin export the embedded
server's ``DATABASE_URL`` and a local ``SECRET_KEY`` when none is given.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

# Any variable may instead be read from a file named by <NAME>_FILE (Docker secrets).
env = environ.FileAwareEnv()

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Behind TLS (a proxy that sets X-Forwarded-Proto), HTTPS=true turns on every transport
# protection that `check --deploy` asks for. `make run` serves plain HTTP on loopback.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_prometheus",
    "products",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a visitor's safe request reads from the replica (atmp_catalogue/db.py).
    "atmp_catalogue.db.ReplicaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After the headers' middleware, so that its 414 carries them; before any view runs.
    "atmp_catalogue.middleware.QueryStringLimitMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    # Innermost, so that it sees a view's database errors first: 503, not 500 (see the module).
    "atmp_catalogue.middleware.DatabaseUnavailableMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "atmp_catalogue.urls"
# Where a sign-in lands when its ``next`` is missing or refused (another host): the admin, the
# only signed-in part of the site (Django's default, /accounts/profile/, does not exist here).
LOGIN_REDIRECT_URL = "/admin/"
WSGI_APPLICATION = "atmp_catalogue.wsgi.application"

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
            ],
        },
    },
]

# The primary; with DATABASE_REPLICA_URL, a streaming replica serves visitors' reads (the router
# of atmp_catalogue/db.py). DATABASE_PASSWORD (or DATABASE_PASSWORD_FILE, a Docker secret) fills
# in a password that the URLs leave out.
DATABASES = {"default": env.db("DATABASE_URL")}
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    # Tests read the replica through the test database's own connection.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["atmp_catalogue.db.ReplicaRouter"]
for _database in DATABASES.values():
    _database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _database["CONN_HEALTH_CHECKS"] = True
    _database.setdefault("OPTIONS", {})["connect_timeout"] = 5
    if not _database.get("PASSWORD"):
        _database["PASSWORD"] = env("DATABASE_PASSWORD", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
# A user name is locked from one address only: behind a proxy, one editor's mistyped passwords
# (or an attacker's) do not lock every other editor out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "atmp_catalogue.db.client_address"

#: The number of reverse proxies in front of gunicorn that append the client's address to
#: X-Forwarded-For (docker-compose.yml's Caddy: 1). 0 (default): the header is ignored and the
#: client is the connection's address; otherwise the client is the entry that many places from
#: the end of X-Forwarded-For, which a client cannot forge. Used by the API's throttle and axes.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/Amsterdam"
#: The catalogue is in British English only: no translation catalogues to look up, so Django's
#: translation machinery is off (every lazy label cast to text cost a catalogue lookup: about a
#: tenth of a cold list page). Texts stay marked with ``gettext_lazy``, and dates and number
#: formats stay en-gb's: formats follow LANGUAGE_CODE, not USE_I18N. Django's own en_GB
#: catalogues translate nothing the pages show differently (checked page by page, admin too).
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The catalogue
CATALOGUE_PAGE_SIZE = 20
CATALOGUE_MAX_PAGE_SIZE = 100
#: Serve visitors' pages from the cache of their catalogue version (products/caching.py).
CATALOGUE_CACHE_PAGES = True
#: Seconds a worker may reuse its reading of the catalogue version for visitors' requests: an
#: edit reaches the public at most this late. 0 reads it for every request.
CATALOGUE_VERSION_MAX_AGE = env.float("CATALOGUE_VERSION_MAX_AGE", default=1.0)
#: Seconds a writer (an admin save, an import) waits for a lock another writer holds before it
#: gives up with a message and changes nothing (products/locks.py).
CATALOGUE_LOCK_TIMEOUT = 5

# Open data (products/releases.py). Releases are files: on several web machines, RELEASES_DIR is
# a volume they share (one machine writes with `manage.py release`, every machine reads).
RELEASES_DIR = env.path("RELEASES_DIR", default=BASE_DIR / ".data" / "releases")
#: The public address of the site, for the absolute links in a release's files (the API's own
#: links come from each request; a release is written without one).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Limits on an EMA export read by the import (admin upload and `import_ema`; see
# products/importers/limits.py). The real export of October 2025 is 0.9 MB, 5.4 MB unpacked,
# 2,632 rows, 102,000 cells and 20,000 shared strings, read in about 2 s; each default leaves
# room for years of growth while keeping a web worker's memory and time bounded (gunicorn stops
# a worker after 30 s). Anything over a limit is refused with one line naming the setting.
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
#: The workbook's parts together, unpacked (checked from the zip's directory before reading).
IMPORT_MAX_UNZIPPED_BYTES = env.int("IMPORT_MAX_UNZIPPED_BYTES", default=50 * 1024 * 1024)
#: Unpacked size to packed size of any part over 1 MB (the export's parts: at most 10 to 1).
IMPORT_MAX_COMPRESSION_RATIO = env.int("IMPORT_MAX_COMPRESSION_RATIO", default=100)
#: Rows of the sheet, or records of the JSON form.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20_000)
#: Cells of the sheet and its shared strings, or values of the JSON form.
IMPORT_MAX_CELLS = env.int("IMPORT_MAX_CELLS", default=1_000_000)
#: Nesting of the JSON form (the export's: 3).
IMPORT_MAX_JSON_DEPTH = env.int("IMPORT_MAX_JSON_DEPTH", default=20)
#: Seconds that reading the export may take.
IMPORT_MAX_SECONDS = env.float("IMPORT_MAX_SECONDS", default=20.0)

# "catalogue" holds rendered pages, API responses and facet counts, each keyed by the catalogue
# version (products/caching.py), so entries are never stale. "default" serves the API's throttle.
# With REDIS_URL (Redis or Valkey) both are shared by every worker of every machine; without it,
# each worker keeps its own in memory (make run), the limit bounding a worker's memory.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"atmp-{alias}",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        for alias in ("default", "catalogue")
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "catalogue": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "catalogue",
            "OPTIONS": {"MAX_ENTRIES": 1000, "CULL_FREQUENCY": 4},
        },
    }

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": CATALOGUE_PAGE_SIZE,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env("API_ANON_RATE", default="600/minute")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ATMP Catalogue API",
    "DESCRIPTION": "Read-only data on the advanced therapy medicinal products the EMA authorised.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Products first in the interactive docs, then the vocabularies (products/api/).
    "TAGS": [
        {"name": "products", "description": "The ATMPs: filter, search, order, page."},
        {"name": "categories", "description": "The four legal classes of ATMP."},
        {"name": "therapeutic-areas", "description": "The EMA's terms for the indications."},
        {"name": "mechanisms", "description": "How the products work."},
        {"name": "holders", "description": "Marketing authorisation holders."},
    ],
}

CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
# Browser clients may read the validators and the throttle's wait (not CORS-safelisted).
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Prometheus metrics at /metrics (django-prometheus, and the catalogue cache's hits and misses),
# answered only to a request carrying "Authorization: Bearer <METRICS_TOKEN>"; without a token
# set, /metrics is a 404 like any unknown path.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

#: Where `manage.py backup` writes by default (docker-compose.yml: a volume).
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "backups")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
