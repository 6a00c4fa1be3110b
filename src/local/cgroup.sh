#!/usr/bin/env bash
# src/local/cgroup.sh: every booted host in a cgroup of its own, in every cgroup hierarchy the machine has.
#
#   cgroup.sh exec NAME RECORD -- COMMAND [ARG...]
#       makes the cgroup NAME under the caller's own cgroup in each hierarchy (the cgroup v1 controllers,
#       the named `systemd` hierarchy, and the unified tree, as far as they are mounted), writes the
#       folders it made to RECORD (one per line), moves itself into them, then execs COMMAND.
#   cgroup.sh remove RECORD
#       removes those folders and everything under them, deepest first, then RECORD. Run it once the
#       command (and every process it started) has ended: a cgroup that still holds a process is named
#       on stderr and kept, and the exit status is 1.
#
# Why: systemd-nspawn --keep-unit (there is no host systemd to give it a scope) puts the container in
# its caller's cgroup: with cgroup v1, every container started from one process gets the same
# `payload` folder, so two hosts' systemds create, fill and remove the same unit cgroups
# (`payload/system.slice/ssh.service`) and one fails with 219/CGROUP when the other removes a unit's
# cgroup it is joining. One cgroup per host, made before nspawn starts, keeps them apart.
set -euo pipefail

die() { echo "cgroup.sh: $*" >&2; exit 1; }

# "FSTYPE ROOT MOUNTPOINT SUPEROPTIONS" for every cgroup mount (mountinfo fields after the " - ").
cgroup_mounts() {
  awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $(i + 1), $4, $5, $(i + 3) }' /proc/self/mountinfo
}

# The folder of this process's cgroup in each mounted hierarchy, once per hierarchy.
own_cgroup_dirs() {
  local id controllers path fstype root mountpoint opts want ok c seen=" "
  while IFS=: read -r id controllers path; do
    while read -r fstype root mountpoint opts; do
      if [ -z "$controllers" ]; then
        [ "$fstype" = cgroup2 ] || continue
      else
        [ "$fstype" = cgroup ] || continue
        ok=1
        IFS=, read -ra want <<<"$controllers"
        for c in "${want[@]}"; do case ",$opts," in *",$c,"*) ;; *) ok=0 ;; esac; done
        [ "$ok" = 1 ] || continue
      fi
      case "$seen" in *" $id "*) continue ;; esac
      seen+="$id "
      # A mount may show only part of the hierarchy (ROOT): the path is relative to it.
      [ "$root" = / ] || path=${path#"$root"}
      echo "$mountpoint${path%/}"
      break
    done < <(cgroup_mounts)
  done </proc/self/cgroup
}

cmd_exec() {
  local name=$1 record=$2 parent dir made=()
  shift 2
  [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "bad cgroup name $name"
  while read -r parent; do
    dir="$parent/$name"
    mkdir -p "$dir"
    # A new cpuset cgroup has no CPUs and no memory nodes until given its parent's.
    if [ -f "$dir/cpuset.cpus" ] && [ -z "$(cat "$dir/cpuset.cpus")" ]; then
      cat "$parent/cpuset.cpus" >"$dir/cpuset.cpus"
      cat "$parent/cpuset.mems" >"$dir/cpuset.mems"
    fi
    made+=("$dir")
  done < <(own_cgroup_dirs)
  [ "${#made[@]}" -gt 0 ] || die "no cgroup hierarchy is mounted"
  printf '%s\n' "${made[@]}" >"$record"
  for dir in "${made[@]}"; do echo $$ >"$dir/cgroup.procs"; done
  exec "$@"
}

# The processes still in the recorded cgroups or below them, as "FOLDER: PID..." lines.
still_inside() {
  local dir procs
  while read -r dir; do
    [ -d "$dir" ] || continue
    while read -r procs; do
      [ -z "$(cat "$procs")" ] || echo "${procs%/cgroup.procs}: $(tr '\n' ' ' <"$procs")"
    done < <(find "$dir" -name cgroup.procs)
  done <"$1"
}

# rmdir every recorded folder, deepest first (a cgroup folder holds only its control files); prints
# those it could not remove.
remove_once() {
  local dir sub
  while read -r dir; do
    [ -d "$dir" ] || continue
    while read -r sub; do
      rmdir "$sub" 2>/dev/null || echo "$sub"
    done < <(find "$dir" -depth -type d)
  done <"$1"
}

cmd_remove() {
  local record=$1 busy line left=""
  [ -f "$record" ] || return 0
  busy=$(still_inside "$record")
  if [ -n "$busy" ]; then
    while IFS= read -r line; do echo "cgroup.sh: still holds processes: $line" >&2; done <<<"$busy"
    return 1
  fi
  # The kernel frees a cgroup a moment after its last process is reaped: a few tries over 2 s.
  for _ in $(seq 1 10); do
    left=$(remove_once "$record")
    [ -n "$left" ] || break
    sleep 0.2
  done
  if [ -n "$left" ]; then
    while IFS= read -r line; do echo "cgroup.sh: could not remove $line" >&2; done <<<"$left"
    return 1
  fi
  rm -f "$record"
}

case "${1:-}" in
  exec)
    if [ $# -lt 5 ] || [ "$4" != -- ]; then die "usage: cgroup.sh exec NAME RECORD -- COMMAND [ARG...]"; fi
    name=$2 record=$3
    shift 4
    cmd_exec "$name" "$record" "$@"
    ;;
  remove)
    [ $# -eq 2 ] || die "usage: cgroup.sh remove RECORD"
    cmd_remove "$2"
    ;;
  *) die "usage: cgroup.sh exec NAME RECORD -- COMMAND [ARG...] | remove RECORD" ;;
esac
