#!/bin/bash
# studyhost-mariadb-datadir: MariaDB's data on the data volume, created or adopted; the server started on it.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
datadir=@@DATADIR@@
@@REQUIRE_DATA_VOLUME@@
install -o root -g root -m 0644 @@MARIADB_ETC@@/studyhost.cnf /etc/mysql/mariadb.conf.d/60-studyhost.cnf
if [ -d "$datadir/mysql" ]; then
  echo "MariaDB's data is on the data volume: using it"
else
  if [ -e "$datadir" ] && [ -n "$(find "$datadir" -mindepth 1 -print -quit)" ]; then
    echo "$datadir holds files but no MariaDB system database: not initialising over them" >&2
    exit 1
  fi
  # Debian's package started a server on /var/lib/mysql (left there, unused): stop it first.
  systemctl stop mariadb.service
  # Into a new folder, moved into place only when complete: a failed run leaves nothing half-made.
  rm -rf "$datadir.new"
  install -d -o mysql -g mysql -m 0750 "$datadir.new"
  mariadb-install-db --user=mysql --datadir="$datadir.new" --auth-root-authentication-method=socket --skip-test-db > /dev/null
  rm -rf "$datadir"
  mv "$datadir.new" "$datadir"
  echo "created MariaDB's data in $datadir"
fi
# A volume from a replaced machine: its files carry the old machine's uid for mysql.
if [ -n "$(find "$datadir" ! -user mysql -print -quit)" ]; then chown -R mysql:mysql "$datadir"; fi
chmod 0750 "$datadir"
if [ -f @@LISTEN_CIDR@@ ]; then
  # A database host: a self-signed certificate made once (the client encrypts without verifying it,
  # as PostgreSQL's sslmode=require), and the private address, found at boot, beside 127.0.0.1.
  tls=@@TLS_DIR@@
  if [ ! -s "$tls/server-key.pem" ] || [ ! -s "$tls/server-cert.pem" ]; then
    install -d -o root -g mysql -m 0750 "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$(hostname)" -keyout "$tls/server-key.pem.new" -out "$tls/server-cert.pem.new" 2> /dev/null
    mv "$tls/server-cert.pem.new" "$tls/server-cert.pem"
    mv "$tls/server-key.pem.new" "$tls/server-key.pem"
  fi
  chown mysql:mysql "$tls/server-key.pem" "$tls/server-cert.pem"
  chmod 0600 "$tls/server-key.pem"
  chmod 0644 "$tls/server-cert.pem"
  cidr=$(cat @@LISTEN_CIDR@@)
  private=$(ip -4 -o addr show | awk '{print $4}' | cut -d/ -f1 | python3 -c 'import ipaddress, sys
net = ipaddress.ip_network(sys.argv[1])
print(next((a for a in sys.stdin.read().split() if ipaddress.ip_address(a) in net), ""))' "$cidr")
[ -n "$private" ] || { echo "no address in $cidr on this host" >&2; exit 1; }
  # MariaDB 10.11 and later take a list of addresses.
  printf '[mysqld]\nbind-address = 127.0.0.1,%s\n' "$private" > /etc/mysql/mariadb.conf.d/61-studyhost-listen.cnf
fi
systemctl daemon-reload
systemctl enable mariadb.service
systemctl restart mariadb.service
@@USERS_SCRIPT@@
