# @@FOLDER@@ on the data volume (@@UNIT@@)
if [ ! -d @@VOLUME_FOLDER@@ ]; then
  # As the boot disk's folder is (mkdir, not install -d, which would reset the mode of one that exists).
  mkdir -p @@FOLDER@@ @@VOLUME_FOLDER@@
  chown --reference=@@FOLDER@@ @@VOLUME_FOLDER@@
  chmod --reference=@@FOLDER@@ @@VOLUME_FOLDER@@
fi
@@RELEASE@@systemctl start @@UNIT@@
mountpoint -q @@FOLDER@@
@@MOVE_LOGS@@ @@FOLDER@@ @@VOLUME_FOLDER@@
@@REOPEN@@systemctl enable @@UNIT@@
