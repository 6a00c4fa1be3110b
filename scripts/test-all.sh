#!/usr/bin/env bash
# `npm test`: every test, what CI runs. Builds, then type-checks, lints and runs the unit and host tests
# while the end-to-end tests' image (src/local/rootfs.sh: minutes on a fresh machine, mostly waiting
# on the package mirror) is built beside them, then boots the end-to-end stacks.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run build

image=""
image_log=$(mktemp)
trap 'if [ -n "$image" ]; then kill "$image" 2>/dev/null || true; fi; rm -f "$image_log"' EXIT
# Only where the end-to-end tests can run at all; without root or the tools they say what is missing.
if [ "$(id -u)" -eq 0 ] && command -v debootstrap >/dev/null && command -v systemd-nspawn >/dev/null && command -v zstd >/dev/null; then
  echo "test-all: building or checking the end-to-end image in the background (log: $image_log)" >&2
  src/local/rootfs.sh base >/dev/null 2>"$image_log" &
  image=$!
fi

npm run typecheck
npm run lint
npm run format:check
npx jest

if [ -n "$image" ]; then
  if ! wait "$image"; then
    image=""
    cat "$image_log" >&2
    echo "test-all: building the end-to-end image failed (its log above)" >&2
    exit 1
  fi
  image=""
  cat "$image_log" >&2
fi
npm run test:e2e
