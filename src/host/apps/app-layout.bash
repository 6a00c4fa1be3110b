@@REQUIRE_DATA_VOLUME@@
# A user of this name that studyhost did not make (its home is not @@CODE_DIR@@) is the host's own: running
# the app as it would hand the app that user's rights and files.
if id -u @@APP@@ >/dev/null 2>&1; then
  home=$(getent passwd @@APP@@ | cut -d: -f6)
  if [ "$home" != @@CODE_DIR@@ ]; then echo "the host already has a user @@APP@@ (home $home), not made by studyhost: give the app another name (studyhost:app.name)" >&2; exit 1; fi
else
  useradd --system --user-group --home-dir @@CODE_DIR@@ --shell /usr/sbin/nologin @@APP@@
fi
install -d -o root -g @@APP@@ -m 0750 @@ETC_DIR@@
install -d -o @@APP@@ -g @@APP@@ -m 0755 @@CODE_DIR@@
install -d -o @@APP@@ -g @@APP@@ -m 0750 @@STATE_DIR@@ @@LOGS@@
# A volume from a replaced machine: its files carry the old machine's uid for this user.
if [ -n "$(find @@STATE_DIR@@ ! -user @@APP@@ -print -quit)" ]; then chown -R @@APP@@:@@APP@@ @@STATE_DIR@@; fi
if [ -n "$(find @@LOGS@@ ! -user @@APP@@ -print -quit)" ]; then chown -R @@APP@@:@@APP@@ @@LOGS@@; fi
@@DEPLOY@@
