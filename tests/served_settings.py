"""Production settings for the gunicorn the tests start, static files served from the sources."""

from atmp_catalogue.settings import *  # noqa: F403
from atmp_catalogue.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
