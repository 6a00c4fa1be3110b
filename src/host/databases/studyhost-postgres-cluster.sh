#!/bin/bash
# studyhost-postgres-cluster: the PostgreSQL cluster on the data volume, created or adopted; configured.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
data="@@DATA@@/postgresql/$version/main"
conf="/etc/postgresql/$version/main"
@@REQUIRE_DATA_VOLUME@@
# Never start an empty cluster beside data this machine cannot use: a half-finished adoption, or a
# cluster of another PostgreSQL major version (the image changed), needs an operator (pg_upgradecluster).
if [ -d "$data.adopting" ]; then echo "$data.adopting exists: a previous adoption did not finish; move it back to $data first" >&2; exit 1; fi
for other in "@@DATA@@"/postgresql/*/main/PG_VERSION; do
  if [ -f "$other" ] && [ "$other" != "$data/PG_VERSION" ] && [ ! -f "$data/PG_VERSION" ]; then
    echo "the data volume holds a PostgreSQL $(cat "$other") cluster but this machine runs $version: upgrade it with pg_upgradecluster; not creating an empty one" >&2
    exit 1
  fi
done
# A cluster whose data is not on the volume (the package made one at install, before studyhost's
# createcluster setting was in place) is not the study's: dropped while it holds nothing, else left
# alone and the run stops, so the study's data never lives on the boot disk unnoticed.
if [ -d "$conf" ] && [ "$(pg_conftool -s "$version" main get data_directory)" != "$data" ]; then
  stray=$(pg_conftool -s "$version" main get data_directory)
  pg_ctlcluster "$version" main start 2>/dev/null || true
  databases=$(runuser -u postgres -- psql --cluster "$version/main" --no-psqlrc -XAtc "SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')" 2>/dev/null || echo unknown)
  tables=$(runuser -u postgres -- psql --cluster "$version/main" --no-psqlrc -XAtc "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" postgres 2>/dev/null || echo unknown)
  if [ "$databases" != 0 ] || [ "$tables" != 0 ]; then
    echo "a PostgreSQL cluster in $stray, off the data volume, holds data ($databases databases, $tables tables in postgres): move it to $data by hand; not touching it" >&2
    exit 1
  fi
  echo "dropping the empty cluster in $stray (off the data volume)"
  pg_dropcluster --stop "$version" main
fi
if [ ! -d "$conf" ]; then
  install -d -o postgres -g postgres "@@DATA@@/postgresql/$version"
  if [ -f "$data/PG_VERSION" ]; then
    echo "adopting the existing cluster in $data"
    mv "$data" "$data.adopting"
    trap 'if [ -d "$data.adopting" ]; then rm -rf "$data"; mv "$data.adopting" "$data"; fi' EXIT
    pg_createcluster --datadir "$data" "$version" main >/dev/null
    rm -rf "$data"
    mv "$data.adopting" "$data"
    trap - EXIT
    # A new machine's postgres user may have another uid than the one that wrote the data.
    chown -R postgres:postgres "$data"
  else
    pg_createcluster --datadir "$data" --encoding UTF8 --locale C.UTF-8 "$version" main >/dev/null
  fi
fi
install -o postgres -g postgres -m 0644 @@POSTGRES_ETC@@/studyhost.conf "$conf/conf.d/50-studyhost.conf"
install -o postgres -g postgres -m 0640 @@POSTGRES_ETC@@/pg_hba.conf "$conf/pg_hba.conf"
if [ -f @@POSTGRES_ETC@@/listen-cidr ]; then
  # A database host listens on its address inside the private network too, found at boot.
  cidr=$(cat @@POSTGRES_ETC@@/listen-cidr)
  private=$(ip -4 -o addr show | awk '{print $4}' | cut -d/ -f1 | python3 -c 'import ipaddress, sys
net = ipaddress.ip_network(sys.argv[1])
print(next((a for a in sys.stdin.read().split() if ipaddress.ip_address(a) in net), ""))' "$cidr")
[ -n "$private" ] || { echo "no address in $cidr on this host" >&2; exit 1; }
  echo "listen_addresses = 'localhost,$private'" > "$conf/conf.d/60-studyhost-listen.conf"
fi
systemctl enable postgresql.service
systemctl restart "postgresql@$version-main.service"
@@POSTGRES_SETUP@@ @@ROLES_FILE@@
