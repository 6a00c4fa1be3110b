@@REQUIRE_DATA_VOLUME@@
getent passwd @@USER@@ >/dev/null || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin @@USER@@
install -d -o @@USER@@ -g @@USER@@ -m 0750 @@ANALYTICS_DIR@@
systemctl daemon-reload
systemctl enable --now @@UNIT@@.timer
