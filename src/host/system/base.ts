// What every host gets before its role: time sync, unattended security upgrades, swap on small
// machines, SSH with keys only, fail2ban, persistent journald with a cap, log rotation.
// Numbers from ../shared/notes/server-practice.md ("Host hardening").
import { configFile, HostPart, PATHS, script } from "../document/part";
import { fillAsset, hostAsset } from "../document/template";

export interface BaseInput {
  readonly memoryGb: number;
  readonly adminUser: string;
}

/** Swap on hosts with 2 GB of RAM or less: as much as the RAM, at least 1 GB. */
export function swapSizeMb(memoryGb: number): number {
  return memoryGb > 2 ? 0 : Math.max(1024, Math.round(memoryGb * 1024));
}

// Named 10-... so it is read before cloud-init's 50-cloud-init.conf: sshd keeps the first value it sees.
const SSHD = hostAsset(__dirname, "sshd.conf");

// fail2ban reads the journal (backend systemd): Debian 12 images have no /var/log/auth.log, and on Ubuntu
// images rsyslog writes it only while journald forwards to syslog (off with logsOnDataVolume).
// Its default ban action is iptables-multiport, and iptables is not always there (Debian 12 images have
// none unless Docker brings it): every ban would fail (logged, never enforced). nftables is the host
// firewall; fail2ban's nftables actions add their own table (inet f2b-table, hooked before ours),
// which our firewall's reload leaves alone.
const FAIL2BAN = hostAsset(__dirname, "fail2ban-jail.conf");

const JOURNALD = hostAsset(__dirname, "journald.conf");

const UNATTENDED = hostAsset(__dirname, "apt-unattended.conf");

/**
 * The [Unit] line that makes a failure loud: a unit that fails (backup, certificate, scheduled job,
 * fetch) starts studyhost-alert@<unit>, which logs an error and runs the operator's hooks.
 */
export const ALERT_ON_FAILURE = "OnFailure=studyhost-alert@%n.service";

/** Any studyhost job that fails (backup, certificate) starts studyhost-alert@<unit>. */
const ALERT_SH = fillAsset(__dirname, "studyhost-alert.sh", { ETC: PATHS.etc });

const ALERT_SERVICE = fillAsset(__dirname, "studyhost-alert@.service", { SBIN: PATHS.sbin });

function swapUnit(sizeMb: number): string {
  // A unit rather than cloud-init's swap module: it is skipped in containers (no swap there) instead
  // of failing the boot, and it survives re-provisioning unchanged.
  return fillAsset(__dirname, "studyhost-swap.service", { SIZE_MB: String(sizeMb) });
}

export function basePart(input: BaseInput): HostPart {
  const swapMb = swapSizeMb(input.memoryGb);
  return {
    packages: ["chrony", "unattended-upgrades", "fail2ban", "python3-systemd", "logrotate", "curl", "ca-certificates"],
    files: [
      configFile("/etc/ssh/sshd_config.d/10-studyhost.conf", SSHD),
      configFile("/etc/fail2ban/jail.d/studyhost.conf", FAIL2BAN),
      configFile("/etc/systemd/journald.conf.d/studyhost.conf", JOURNALD),
      configFile("/etc/apt/apt.conf.d/52studyhost-unattended", UNATTENDED),
      script(`${PATHS.sbin}/studyhost-alert`, ALERT_SH),
      configFile(`${PATHS.units}/studyhost-alert@.service`, ALERT_SERVICE),
      ...(swapMb > 0 ? [configFile(`${PATHS.units}/studyhost-swap.service`, swapUnit(swapMb))] : []),
    ],
    steps: [
      {
        name: "base",
        script: fillAsset(__dirname, "base-step.bash", {
          SWAP: swapMb > 0 ? "systemctl enable --now studyhost-swap.service" : "# no swap: more than 2 GB of RAM",
        }),
      },
    ],
  };
}
