#!/usr/bin/env bash
# The root filesystem of the STAND-IN container images of the e-mission end-to-end test (no registry is
# reachable here and MongoDB is not in Debian, so emission/e-mission-server and mongo cannot be had):
# the viewbovis stand-ins' Debian 12 minbase root (../viewbovis-image/build.sh: Debian's python3, cached)
# without their app, plus
#   - mongo/: a stand-in mongod (its own trivial JSON-over-TCP protocol, NOT MongoDB's), the image's
#     entrypoint, and stand-in mongosh, mongodump, mongorestore honouring exactly the arguments
#     studyhost's scripts pass (in /usr/local/bin; their shared code in /usr/local/lib/standin-mongo);
#   - server/: a stand-in e-mission server folder (/usr/src/app: setup/activate.sh, e-mission-py.bash,
#     emission/net/api/cfc_webapp.py, bin/intake_multiprocess.py, bin/push/silent_ios_push.py).
# One tar for both images (the test imports it twice with different settings), cached in the e2e cache
# folder keyed on this folder's files and the base's tar; prints the tarball's path.
#
#   build.sh        (root)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${STUDYHOST_E2E_CACHE:-/var/cache/studyhost-e2e}
base=$("$HERE/../viewbovis-image/build.sh")
key=$( (cd "$HERE" && find . -type f ! -path '*__pycache__*' | LC_ALL=C sort | xargs cat; basename "$base") | sha256sum | cut -c1-16)
tarball="$CACHE/standin-emission-$key.tar"
exec 9>"$CACHE/.standin-emission-lock"
flock 9
if [ ! -f "$tarball" ]; then
  root=$(mktemp -d "$CACHE/standin-emission-build.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  tar --numeric-owner -C "$root" -xf "$base"
  chmod 0755 "$root"
  rm -rf "$root/app" "$root/usr/local/bin/auspice"
  install -d "$root/usr/local/lib/standin-mongo" "$root/data/db" "$root/usr/src/app"
  install -m 0644 "$HERE/mongo/standin_mongo.py" "$HERE/mongo/standin_tools.py" "$root/usr/local/lib/standin-mongo/"
  for cmd in mongod mongosh mongodump mongorestore docker-entrypoint.sh; do install -m 0755 "$HERE/mongo/$cmd" "$root/usr/local/bin/$cmd"; done
  cp -r "$HERE/server/." "$root/usr/src/app/"
  find "$root/usr/src/app" -name __pycache__ -prune -exec rm -rf {} +
  chmod -R a+rX "$root/usr/src/app"
  chmod 0755 "$root/usr/src/app/e-mission-py.bash"
  install -d "$root/usr/src/app/setup/standin-env/bin"
  ln -s /usr/bin/python3 "$root/usr/src/app/setup/standin-env/bin/python"
  tar --numeric-owner -C "$root" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  for old in "$CACHE"/standin-emission-*.tar; do [ "$old" = "$tarball" ] || rm -f "$old"; done
fi
echo "$tarball"
