"""Production settings for the gunicorn the tests start: static files served from the sources,
passwords hashed cheaply."""

from django.conf import global_settings

from atmp_catalogue.settings import *  # noqa: F403
from atmp_catalogue.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# The tests sign users in and out of these servers (and fail to, on purpose) many times: a user
# they make hashes with MD5, not PBKDF2's 1,000,000 rounds (half a second of CPU a check).
# PBKDF2 hashes are still read.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *global_settings.PASSWORD_HASHERS,
]
