systemctl daemon-reload
@@SWAP@@
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
