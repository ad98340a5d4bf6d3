#!/bin/sh
# Run once by the postgres image when it creates the primary's database: let the replica stream
# from it (the catalogue's role, with its password, over the compose network).
set -e
echo "host replication $POSTGRES_USER all scram-sha-256" >> "$PGDATA/pg_hba.conf"
