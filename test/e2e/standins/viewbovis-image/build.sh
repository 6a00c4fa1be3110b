#!/usr/bin/env bash
# The root filesystem of the STAND-IN container images of the ViewBovis end-to-end test (no registry is
# reachable here, so aphacsubot/viewbovis and nextstrain/auspice cannot be pulled): Debian 12 minbase with
# the REAL gunicorn (Debian's), the stand-in ViewBovis app (deploy.py, in /app) and the stand-in
# `auspice` command (in /usr/local/bin). Packed as a tar for `docker import`, cached in the e2e cache
# folder keyed on this folder's files; prints the tarball's path.
#
#   build.sh        (root, debootstrap; the mirror is the one the cached test image uses: rootfs.sh base)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../../.." && pwd)
CACHE=${STUDYHOST_E2E_CACHE:-/var/cache/studyhost-e2e}
key=$(cat "$HERE"/build.sh "$HERE"/deploy.py "$HERE"/auspice | sha256sum | cut -c1-16)
tarball="$CACHE/standin-viewbovis-$key.tar"
mkdir -p "$CACHE"
exec 9>"$CACHE/.standin-lock"
flock 9
if [ ! -f "$tarball" ]; then
  base=$("$REPO/src/local/rootfs.sh" base)
  # The release's mirror as the test image has it (rootfs.sh took it from this machine's apt sources).
  mirror=$(awk '/^URIs:/ { uri = $2 } /^Suites:/ && $2 == "bookworm" { print uri; exit }' "$base/etc/apt/sources.list.d/debian.sources")
  [ -n "$mirror" ] || { echo "build.sh: no bookworm source in $base" >&2; exit 1; }
  root=$(mktemp -d "$CACHE/standin-build.XXXXXX")
  chmod 0755 "$root"
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase --include=gunicorn --cache-dir="$CACHE/debs" bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }
  rm -f "$root.log"
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
  install -d "$root/app"
  install -m 0644 "$HERE/deploy.py" "$root/app/deploy.py"
  install -m 0755 "$HERE/auspice" "$root/usr/local/bin/auspice"
  tar --numeric-owner -C "$root" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  for old in "$CACHE"/standin-viewbovis-*.tar; do [ "$old" = "$tarball" ] || rm -f "$old"; done
fi
echo "$tarball"
