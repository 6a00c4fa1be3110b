// The data volume on first (and every) boot: wait for the cloud to attach it, format it only if it
// holds nothing at all, and mount it by UUID with nofail. Runs from cloud-init's bootcmd, which comes
// before packages are installed, so PostgreSQL and the app only ever see the volume, never the boot disk.
//
// The script is a constant: the device and mount point arrive as arguments ($1, $2), so nothing is
// pasted into shell text, and shellcheck checks exactly what runs.
import { PATHS } from "../document/part";
import { hostAsset } from "../document/template";

/** POSIX sh, run as `sh -c DATA_VOLUME_SCRIPT studyhost-data-volume DEVICE MOUNT_POINT`. */
export const DATA_VOLUME_SCRIPT = hostAsset(__dirname, "data-volume.sh");

/** The bootcmd entry that prepares the data volume. */
export function dataVolumeBootCommand(device: string, mountPoint: string): string[] {
  return ["sh", "-c", DATA_VOLUME_SCRIPT, "studyhost-data-volume", device, mountPoint];
}

/**
 * The line that stops a provisioning step when nothing is mounted on the data volume's mount point
 * (the volume never attached, or did not mount): what the step would write there would land on the
 * boot disk, outside the volume that backups, restores and a replaced machine rely on, and be hidden
 * once the volume did mount. `studyhost local` and the e2e harness bind a folder there: a mount point
 * too, so they pass. `what`: what the step would put there, for the message.
 */
export function requireDataVolume(what: string): string {
  return `mountpoint -q ${PATHS.data} || { echo "the data volume is not mounted on ${PATHS.data} (did it attach? see studyhost-data-volume in /var/log/cloud-init-output.log): refusing to put ${what} on the boot disk" >&2; exit 1; }`;
}
