#!/bin/sh
# The streaming replica: on first start, a copy of the primary (pg_basebackup -R writes the
# standby settings), then the postgres image's own entrypoint serves it read-only.
set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    export PGPASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
    until pg_isready -h db -U "$POSTGRES_USER" -d "$POSTGRES_DB"; do sleep 1; done
    mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
    gosu postgres pg_basebackup -h db -U "$POSTGRES_USER" -D "$PGDATA" -R -X stream \
        || { rm -rf "${PGDATA:?}"/*; exit 1; }  # restarted, it tries again from nothing
fi
exec docker-entrypoint.sh postgres
