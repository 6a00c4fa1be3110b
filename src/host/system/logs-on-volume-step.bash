@@REQUIRE_DATA_VOLUME@@
install -d -m 0755 @@LOGS_ON_VOLUME@@
install -d @@ETC@@
touch @@MOVED_FLAG@@
systemctl daemon-reload
@@FOLDERS@@
