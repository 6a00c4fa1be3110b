#!/bin/sh
# STAND-IN for the mongo image's entrypoint (not MongoDB's): options alone (studyhost passes
# --wiredTigerCacheSizeGB N) go to mongod, as the real entrypoint does; the stand-in mongod binds all
# addresses in the container as the real image does (--bind_ip_all).
set -eu
if [ "${1#-}" != "$1" ]; then set -- mongod --bind_ip_all "$@"; fi
exec "$@"
