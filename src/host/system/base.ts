// What every host gets before its role: time sync, unattended security upgrades, swap on small
// machines, SSH with keys only, fail2ban, persistent journald with a cap, log rotation.
// Numbers from ../shared/notes/server-practice.md ("Host hardening").
import { configFile, HostPart, PATHS, script } from "../document/part";
import { bashScript } from "../document/shell";

export interface BaseInput {
  readonly memoryGb: number;
  readonly adminUser: string;
}

/** Swap on hosts with 2 GB of RAM or less: as much as the RAM, at least 1 GB. */
export function swapSizeMb(memoryGb: number): number {
  return memoryGb > 2 ? 0 : Math.max(1024, Math.round(memoryGb * 1024));
}

// Named 10-... so it is read before cloud-init's 50-cloud-init.conf: sshd keeps the first value it sees.
const SSHD = `# studyhost: keys only, no root, no forwarding.
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthenticationMethods publickey
PubkeyAuthentication yes
MaxAuthTries 2
LoginGraceTime 30s
AllowTcpForwarding no
AllowAgentForwarding no
AllowStreamLocalForwarding no
X11Forwarding no
PermitTunnel no
LogLevel VERBOSE
`;

// fail2ban reads the journal (backend systemd): Debian 12 images have no /var/log/auth.log, and on Ubuntu
// images rsyslog writes it only while journald forwards to syslog (off with logsOnDataVolume).
// Its default ban action is iptables-multiport, and iptables is not always there (Debian 12 images have
// none unless Docker brings it): every ban would fail (logged, never enforced). nftables is the host
// firewall; fail2ban's nftables actions add their own table (inet f2b-table, hooked before ours),
// which our firewall's reload leaves alone.
const FAIL2BAN = `# studyhost: ban addresses that keep failing SSH logins.
[DEFAULT]
banaction = nftables-multiport
banaction_allports = nftables-allports

[sshd]
enabled = true
backend = systemd
maxretry = 5
findtime = 10m
bantime = 10m
`;

const JOURNALD = `# studyhost: keep logs across reboots, within a cap.
[Journal]
Storage=persistent
SystemMaxUse=500M
MaxRetentionSec=3month
`;

const UNATTENDED = `// studyhost: refresh package lists and install security updates every day.
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
APT::Periodic::AutocleanInterval "7";
`;

/**
 * The [Unit] line that makes a failure loud: a unit that fails (backup, certificate, scheduled job,
 * fetch) starts studyhost-alert@<unit>, which logs an error and runs the operator's hooks.
 */
export const ALERT_ON_FAILURE = "OnFailure=studyhost-alert@%n.service";

/** Any studyhost job that fails (backup, certificate) starts studyhost-alert@<unit>. */
const ALERT_SH = bashScript(
  "studyhost-alert UNIT: a studyhost job failed. Logs it as an error and runs every hook in /etc/studyhost/alert.d.",
  `
unit="\${1:-unknown}"
logger --priority daemon.err --tag studyhost "FAILED: $unit (journalctl -u $unit)"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $unit failed" >> /var/log/studyhost-alerts.log
if [ -d ${PATHS.etc}/alert.d ]; then
  run-parts --arg="$unit" ${PATHS.etc}/alert.d
fi
`,
);

const ALERT_SERVICE = `[Unit]
Description=studyhost alert: %i failed

[Service]
Type=oneshot
ExecStart=${PATHS.sbin}/studyhost-alert %i
`;

function swapUnit(sizeMb: number): string {
  // A unit rather than cloud-init's swap module: it is skipped in containers (no swap there) instead
  // of failing the boot, and it survives re-provisioning unchanged.
  return `[Unit]
Description=studyhost swap file (${sizeMb} MB)
ConditionVirtualization=!container
ConditionPathExists=!/swapfile.studyhost-off

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'test -f /swapfile || { fallocate -l ${sizeMb}M /swapfile && chmod 600 /swapfile && mkswap /swapfile; }'
ExecStart=/bin/sh -c 'swapon --show=NAME --noheadings | grep -qx /swapfile || swapon /swapfile'
ExecStop=/sbin/swapoff /swapfile

[Install]
WantedBy=multi-user.target
`;
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
        script: `
systemctl daemon-reload
${swapMb > 0 ? "systemctl enable --now studyhost-swap.service" : "# no swap: more than 2 GB of RAM"}
# Ubuntu 24.04 starts sshd from a socket: its privilege-separation folder exists only after a login.
install -d -m 0755 /run/sshd
sshd -t
systemctl reload-or-restart ssh.service
systemctl restart systemd-journald.service
# Restarted, not reloaded: where the jail arrives after boot (AWS fetches the files in runcmd), the boot's
# start failed on the distribution's default jail, and a reload right after the first start here races
# the new server's socket ("Reload failed for fail2ban.service").
systemctl enable fail2ban.service
systemctl restart fail2ban.service
systemctl enable --now chrony.service || true  # skipped where the clock belongs to the host (containers)
`,
      },
    ],
  };
}
