"""No Docker engine runs here, so docker-compose.yml is checked by reading it."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

BASE = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((BASE / "docker-compose.yml").read_text())


def settings_variables() -> set[str]:
    source = (BASE / "atmp_catalogue" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))


def test_db_service_is_official_postgres_with_healthcheck_and_named_volume(compose):
    db = compose["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_web_waits_for_a_healthy_db_and_publishes_the_port(compose):
    web = compose["services"]["web"]
    assert web["build"] == "."
    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    assert "127.0.0.1:8000:8000" in web["ports"]
    assert "@db:5432/" in web["environment"]["DATABASE_URL"]


def test_compose_and_env_example_use_the_settings_variable_names(compose):
    names = settings_variables()
    assert {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL"} <= names
    web_env = set(compose["services"]["web"]["environment"]) - {"PORT"}
    assert web_env <= names, web_env - names
    example = {
        line.split("=", 1)[0]
        for line in (BASE / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert example - {"PORT"} <= names
    assert web_env == example - {"PORT"}


def test_dockerfile_runs_migrations_then_gunicorn():
    dockerfile = (BASE / "Dockerfile").read_text()
    command = dockerfile.split("CMD", 1)[1]
    assert command.index("migrate") < command.index("gunicorn atmp_catalogue.wsgi")


@pytest.mark.parametrize(
    "path, option",
    [
        ("Dockerfile", "gunicorn atmp_catalogue.wsgi --config gunicorn.conf.py"),
        (
            "products/management/commands/serve.py",
            "--config={settings.BASE_DIR / 'gunicorn.conf.py'}",
        ),
        ("bench/run.py", "--config={BASE_DIR / 'gunicorn.conf.py'}"),
        ("tests/served.py", "--config={BASE_DIR / 'gunicorn.conf.py'}"),
    ],
)
def test_every_gunicorn_reads_the_projects_config(path, option):
    """The Docker image, `make run`, the benchmark and the tests serve with the same limits."""
    assert option in (BASE / path).read_text()
    assert "limit_request_line = 8190" in (BASE / "gunicorn.conf.py").read_text()
