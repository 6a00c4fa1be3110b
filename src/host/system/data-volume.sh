set -eu
device="$1"
mount_point="$2"
log() { echo "studyhost-data-volume: $*" >&2; }

# Already mounted (every boot after the first, or a test's bind mount): nothing to do.
if mountpoint -q "$mount_point"; then exit 0; fi

# The cloud attaches the volume after creating the VM: wait for it, up to five minutes.
waited=0
until [ -b "$device" ]; do
  if [ "$waited" -ge 300 ]; then log "the data volume $device never appeared"; exit 1; fi
  sleep 2
  waited=$((waited + 2))
done
device=$(readlink -f "$device")

# blkid -p exits 2 when the device holds no filesystem, partition table or RAID/LUKS signature at
# all: only then is it formatted. Any other failure stops here rather than risk formatting data.
set +e
blkid -p "$device" >/dev/null 2>&1
probe=$?
set -e
case "$probe" in
  0) log "$device is not empty: keeping what it holds" ;;
  2) log "$device is empty: formatting it ext4"; mkfs.ext4 -q -L studydata "$device" ;;
  *) log "cannot probe $device (blkid exit $probe): not touching it"; exit 1 ;;
esac

uuid=$(blkid -s UUID -o value "$device" || true)
if [ -z "$uuid" ]; then log "$device holds no filesystem studyhost can mount (a partition table?): not touching it"; exit 1; fi
mkdir -p "$mount_point"
if ! grep -q "^UUID=$uuid " /etc/fstab; then
  # A replaced volume leaves a stale line for the same mount point: drop it first.
  grep -v "[[:space:]]${mount_point}[[:space:]]" /etc/fstab > /etc/fstab.studyhost || true
  echo "UUID=$uuid $mount_point ext4 defaults,nofail,x-systemd.device-timeout=30s 0 2" >> /etc/fstab.studyhost
  cat /etc/fstab.studyhost > /etc/fstab
  rm -f /etc/fstab.studyhost
fi
mount "$mount_point"
mountpoint -q "$mount_point"
log "$device (UUID $uuid) mounted on $mount_point"
