"""Settings of the catalog API.

A Django 3.2 + DRF + django-redis + django-filter project that caches its
catalog in Redis the way the original backend did. Every way in which real
deployments differ is a switch read from the environment; the defaults are
what the django-redis and DRF documentation show:

CATALOG_REDIS_URL          cache LOCATION, db in the path
                           (default redis://127.0.0.1:6379/1, as django-redis documents)
CATALOG_CACHE_PREFIX       KEY_PREFIX (default "ecommerce")
CATALOG_CACHE_VERSION      VERSION (default 1)
CATALOG_CACHE_SERIALIZER   "pickle" (default, django-redis's own default) or "json"
CATALOG_CACHE_COMPRESSOR   "none" (default), "zlib" or "lzma"
CATALOG_CATEGORY_PAGINATION  "plain" (default: /api/categories/ is a JSON array)
                           or "paginated" ({"count", "next", "previous", "results"})
CATALOG_PARENT_FIELD       name of a category's parent in the JSON: "parent"
                           (default, ModelSerializer's name) or "parent_id"
CATALOG_PRODUCT_COUNT      "1" (default): categories carry "product_count";
                           "0": they do not
CATALOG_ORDERING_FIELDS    comma-separated ordering fields of /api/products/
                           (default "price,name,created_at,sales_count,rating";
                           add "popularity" for an alias of sales_count).
                           DRF ignores any other ?ordering= silently.
CATALOG_AUTH               "session" (default: DRF's SessionAuthentication +
                           BasicAuthentication; an anonymous write is a 403) or
                           "token" (TokenAuthentication; an anonymous write is a
                           401 with WWW-Authenticate: Token). Tokens come from
                           `manage.py drf_create_token admin` or `manage.py seed`.
CATALOG_CACHE_HEADER       "1" adds the X-Cache: HIT|MISS middleware (default off:
                           the app sends no cache headers)
CATALOG_SIMULATED_DB_LATENCY_MS
                           SIMULATION, off by default ("0"): milliseconds slept
                           before each SQL query a request makes, to imitate a
                           database across a network instead of SQLite in the
                           process (a middleware; migrate, seed and the
                           management commands are not slowed)
CATALOG_SITE_URL           base URL warmup_cache builds its requests on, so the
                           page links it caches name the real host
                           (default http://localhost:8000)
CATALOG_DB_PATH            SQLite file (default db.sqlite3 beside manage.py)
CATALOG_ALLOWED_HOSTS      comma-separated ALLOWED_HOSTS (default "127.0.0.1,localhost")
CATALOG_DEBUG              "1" for DEBUG (default off)
CATALOG_SECRET_KEY         SECRET_KEY (a fixed development key by default)

Writes (POST, PUT, PATCH, DELETE) need an authenticated staff user.
"""
import math
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default):
    return os.environ.get(name, default)


def env_choice(name, default, choices):
    value = env(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r}: want one of {', '.join(choices)}")
    return value


def env_ms(name, default):
    value = env(name, str(default))
    try:
        ms = float(value)
    except ValueError:
        ms = -1
    if not (ms >= 0 and math.isfinite(ms)):
        raise ImproperlyConfigured(f"{name}={value!r}: want milliseconds, 0 or more")
    return ms


def env_int(name, default):
    value = env(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: want an integer")


SECRET_KEY = env("CATALOG_SECRET_KEY", "development-only-secret-key-do-not-use-in-production")
DEBUG = env_choice("CATALOG_DEBUG", "0", ("0", "1")) == "1"
ALLOWED_HOSTS = [h.strip() for h in env("CATALOG_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "products",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
if env_choice("CATALOG_CACHE_HEADER", "0", ("0", "1")) == "1":
    MIDDLEWARE.insert(0, "products.middleware.CacheStatusMiddleware")
SIMULATED_DB_LATENCY_MS = env_ms("CATALOG_SIMULATED_DB_LATENCY_MS", 0)
if SIMULATED_DB_LATENCY_MS > 0:
    MIDDLEWARE.append("products.middleware.SimulatedDBLatencyMiddleware")

ROOT_URLCONF = "ecommerce.urls"
WSGI_APPLICATION = "ecommerce.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env("CATALOG_DB_PATH", str(BASE_DIR / "db.sqlite3")),
        # Several gunicorn workers share the file; wait for a writer's lock.
        "OPTIONS": {"timeout": 20},
    }
}

_SERIALIZERS = {
    "pickle": "django_redis.serializers.pickle.PickleSerializer",
    "json": "django_redis.serializers.json.JSONSerializer",
}
_COMPRESSORS = {
    "none": "django_redis.compressors.identity.IdentityCompressor",
    "zlib": "django_redis.compressors.zlib.ZlibCompressor",
    "lzma": "django_redis.compressors.lzma.LzmaCompressor",
}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env("CATALOG_REDIS_URL", "redis://127.0.0.1:6379/1"),
        "KEY_PREFIX": env("CATALOG_CACHE_PREFIX", "ecommerce"),
        "VERSION": env_int("CATALOG_CACHE_VERSION", 1),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SERIALIZER": _SERIALIZERS[env_choice("CATALOG_CACHE_SERIALIZER", "pickle", tuple(_SERIALIZERS))],
            "COMPRESSOR": _COMPRESSORS[env_choice("CATALOG_CACHE_COMPRESSOR", "none", tuple(_COMPRESSORS))],
        },
    }
}

_AUTHENTICATION = {
    # DRF's own default.
    "session": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "token": [
        "rest_framework.authentication.TokenAuthentication",
    ],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": _AUTHENTICATION[env_choice("CATALOG_AUTH", "session", tuple(_AUTHENTICATION))],
    "DEFAULT_PERMISSION_CLASSES": ["products.permissions.IsAdminOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "products.pagination.StandardResultsSetPagination",
    "PAGE_SIZE": 20,
}

CATALOG = {
    "CATEGORY_PAGINATION": env_choice("CATALOG_CATEGORY_PAGINATION", "plain", ("plain", "paginated")),
    "PARENT_FIELD": env_choice("CATALOG_PARENT_FIELD", "parent", ("parent", "parent_id")),
    "PRODUCT_COUNT": env_choice("CATALOG_PRODUCT_COUNT", "1", ("0", "1")) == "1",
    "ORDERING_FIELDS": [
        f.strip() for f in env("CATALOG_ORDERING_FIELDS", "price,name,created_at,sales_count,rating").split(",") if f.strip()
    ],
    "SITE_URL": env("CATALOG_SITE_URL", "http://localhost:8000"),
}
_ORDERABLE = {"price", "name", "created_at", "sales_count", "rating", "popularity", "id"}
for _field in CATALOG["ORDERING_FIELDS"]:
    if _field not in _ORDERABLE:
        raise ImproperlyConfigured(f"CATALOG_ORDERING_FIELDS: {_field!r} is not one of {', '.join(sorted(_ORDERABLE))}")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_L10N = True
USE_TZ = True

STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING"},
        "products": {"handlers": ["console"], "level": "INFO"},
    },
}
