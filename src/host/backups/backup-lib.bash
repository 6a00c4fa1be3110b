# studyhost's backup library: what every engine's backup and restore script (PostgreSQL and SQLite,
# MariaDB, MongoDB) does alike, written once. Sourced by them; it sets no variable they read.
# Written by studyhost; edits are overwritten at the next provisioning.

# backup_start PARTIAL: a private backup folder, and PARTIAL (where the dump is written until it is
# checked) removed however the script ends.
backup_start() {
  umask 077
  install -d -m 0700 "$BACKUP_DIR"
  # shellcheck disable=SC2064 # the path now, not at exit
  trap "rm -f $(printf '%q' "$1")" EXIT
}

# backup_keep PARTIAL FINAL: the checked dump under its final name, old ones pruned by the retention
# policy (KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY), and a copy offsite when the host has a bucket.
backup_keep() {
  local partial="$1" final="$2"
  mv "$partial" "$final"
  echo "backup written: $final ($(stat -c %s "$final") bytes)"
  "${STUDYHOST_PRUNE:-@@PRUNE_SCRIPT@@}" "$BACKUP_DIR" --daily "$KEEP_DAILY" --weekly "$KEEP_WEEKLY" --monthly "$KEEP_MONTHLY"
  if [ -f @@OFFSITE_ENV@@ ]; then
    # rclone reads its remote from RCLONE_CONFIG_OFFSITE_* in this root-only file.
    set -a
    # shellcheck source=/dev/null
    . @@OFFSITE_ENV@@
    set +a
    rclone copyto "$final" "offsite:$OFFSITE_BUCKET/$(hostname)/$(basename "$final")"
    echo "copied offsite to $OFFSITE_BUCKET"
  fi
}

# restore_choose PATTERN [BACKUP]: the path of BACKUP (a name in BACKUP_DIR, or a path), or of the
# newest backup whose name matches PATTERN; fails when there is none.
restore_choose() {
  local file="${2:-$(find "$BACKUP_DIR" -maxdepth 1 -name "$1" -printf '%f\n' | sort | tail -n 1)}"
  [ -n "$file" ] || { echo "no backup in $BACKUP_DIR" >&2; return 1; }
  case "$file" in /*) ;; *) file="$BACKUP_DIR/$file" ;; esac
  [ -f "$file" ] || { echo "no such backup: $file" >&2; return 1; }
  echo "$file"
}

# restore_confirm YES WHAT FILE: unless YES is "yes" (--yes), asks before WHAT is replaced with FILE.
restore_confirm() {
  [ "$1" = yes ] && return 0
  local answer
  read -r -p "Replace $2 with $3? Type yes: " answer
  [ "$answer" = yes ] || { echo "nothing restored"; exit 1; }
}

# restore_stop_app: stops the app while its data is replaced (APP_UNIT, when it runs on this host),
# and starts it again however the restore ends.
restore_stop_app() {
  if [ -n "${APP_UNIT:-}" ]; then
    systemctl stop "$APP_UNIT"
    trap 'systemctl start "$APP_UNIT"' EXIT
  fi
}
