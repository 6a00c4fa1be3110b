#!/usr/bin/env bash
# bench/ci-runs.sh [RUNS] [--fresh-image]: what CI does, RUNS times in a row (default 3), each on a
# fresh clone of this checkout's HEAD with ../shared beside it, as `bash .ci/run` as root. Records each
# run's wall time, its exit status, the test counts jest printed (unit and host, end to end) and the
# end-to-end files' times in bench/results/ci-runs.json; asserts nothing. With --fresh-image the first
# run starts from an empty image cache (what a fresh machine does: the image is built inside the run).
# The clones are left in /var/tmp/studyhost-ci-runs/run-N (their logs in run-N.log).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=3
fresh=0
for arg in "$@"; do
  case "$arg" in
    --fresh-image) fresh=1 ;;
    *[!0-9]* | "") echo "usage: bench/ci-runs.sh [RUNS] [--fresh-image]" >&2; exit 2 ;;
    *) runs=$arg ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/ci-runs.sh: .ci/run installs packages and boots hosts: run it as root" >&2; exit 1; }
[ -d "$repo/../shared" ] || { echo "bench/ci-runs.sh: no ../shared beside $repo (CI has it)" >&2; exit 1; }

work=/var/tmp/studyhost-ci-runs
mkdir -p "$work"
rm -f "$work/shared"
ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
commit=$(git -C "$repo" rev-parse HEAD)
records=()
for i in $(seq 1 "$runs"); do
  clone="$work/run-$i"
  rm -rf "$clone"
  git clone -q "$repo" "$clone"
  git -C "$clone" checkout -q "$commit"
  image="cached"
  if [ "$fresh" = 1 ] && [ "$i" = 1 ]; then
    rm -rf "${STUDYHOST_E2E_CACHE:-/var/cache/studyhost-e2e}"
    image="built in the run"
  fi
  echo "ci-runs: run $i of $runs ($image image) in $clone" >&2
  start=$(date +%s)
  set +e
  (cd "$clone" && bash .ci/run) >"$clone.log" 2>&1
  status=$?
  set -e
  seconds=$(($(date +%s) - start))
  # jest's totals: the first "Tests:" line is the unit and host run, the last the end-to-end run.
  unit=$(grep -m1 '^Tests:' "$clone.log" | sed 's/^Tests: *//' || true)
  e2e=$(grep '^Tests:' "$clone.log" | tail -n1 | sed 's/^Tests: *//' || true)
  files="{}"
  [ ! -f "$clone/bench/results/e2e-file-times.json" ] || files=$(cat "$clone/bench/results/e2e-file-times.json")
  echo "ci-runs: run $i: exit $status in ${seconds} s; unit and host: $unit; end to end: $e2e" >&2
  records+=("{\"run\":$i,\"image\":\"$image\",\"exit\":$status,\"seconds\":$seconds,\"unitAndHostTests\":\"$unit\",\"endToEndTests\":\"$e2e\",\"endToEnd\":$files}")
done
mkdir -p "$repo/bench/results"
{
  printf '{"measuredAt":"%s","commit":"%s","machine":"%s cores, %s","runs":[' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$(nproc)" "$(free -g | awk '/^Mem:/ { print $2 " GiB" }')"
  (IFS=,; printf '%s' "${records[*]}")
  printf ']}\n'
} | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>process.stdout.write(JSON.stringify(JSON.parse(s),null,2)+"\n"))' >"$repo/bench/results/ci-runs.json"
echo "ci-runs: recorded in bench/results/ci-runs.json" >&2
