"""Settings come from the environment; production values pass `check --deploy` cleanly."""

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "SECRET_KEY": "k3y-" + "x7Qz9" * 12,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "atmp.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://atmp.example.org",
    "HTTPS": "true",
    "DATABASE_URL": "postgres://atmp:secret@db.example.org:5432/atmp_catalogue",
}


def run_manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


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
