systemctl daemon-reload
systemctl enable studyhost-certificate.timer
systemctl start studyhost-certificate.timer
# DNS may not point here yet: provisioning goes on (backups matter more), the holding page stays up,
# the alert hook has fired, and the timer retries every 15 minutes.
systemctl start studyhost-certificate.service || echo "no certificate yet: studyhost-certificate.timer retries"
