# Production image: the catalogue served by gunicorn (docker-compose.yml runs it as `migrate`,
# a one-shot service, and `web`, as many as you scale). No embedded PostgreSQL: DATABASE_URL is
# needed, and without it every command says so in one line and exits non-zero.
FROM python:3.12-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8000 \
    WEB_CONCURRENCY=3 \
    BACKUP_DIR=/backups

# pg_dump and pg_restore for `manage.py backup` and `restore`: Debian trixie's client is
# PostgreSQL 17, the major version of docker-compose.yml's servers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The pinned, hash-checked dependencies (requirements.lock, `make lock`), then the project alone.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY atmp_catalogue ./atmp_catalogue
COPY products ./products
RUN pip install --no-deps .
COPY . .
# collectstatic needs settings, not a database: build-time placeholders only.
RUN SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput

RUN useradd --create-home app && install -d -o app -g app /backups /srv/atmp/releases
USER app
VOLUME ["/backups"]
EXPOSE 8000
# Workers: WEB_CONCURRENCY (gunicorn's own variable). Migrations run once, in the `migrate`
# service, never here: instances starting together would race.
CMD ["sh", "-c", "exec gunicorn atmp_catalogue.wsgi --config gunicorn.conf.py --bind 0.0.0.0:${PORT} --access-logfile -"]
