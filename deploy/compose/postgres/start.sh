#!/bin/sh
# First start: a cluster with the schema owner (migrations) and the application role the gateways use.
set -eu
bin=/usr/lib/postgresql/15/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  "$bin/initdb" -D "$PGDATA" --auth-local=peer --auth-host=scram-sha-256 -U postgres >/dev/null
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w start >/dev/null
  psql -h /tmp -v ON_ERROR_STOP=1 -U postgres <<SQL
CREATE ROLE recondo_owner LOGIN PASSWORD '${OWNER_PASSWORD}';
CREATE ROLE recondo_app LOGIN PASSWORD '${APP_PASSWORD}';
CREATE DATABASE recondo OWNER recondo_owner;
SQL
  "$bin/pg_ctl" -D "$PGDATA" -w stop >/dev/null
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses="${LISTEN:-*}" -c port="${PORT:-5432}" \
  -c unix_socket_directories=/tmp
