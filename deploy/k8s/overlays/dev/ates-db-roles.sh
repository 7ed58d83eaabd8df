#!/bin/bash
# Runs once, when the dev PostgreSQL initialises its data folder
# (/docker-entrypoint-initdb.d): one login role per daemon, owning that
# daemon's database, which no other role may connect to. The daemons use these
# roles, never the superuser (whose password only the provisioning Job knows).
set -euo pipefail
for svc in auth tasks billing analytics scheduler; do
  var="ATES_${svc^^}_DB_PASSWORD"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="ates_$svc" -v pw="${!var}" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'pw';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
