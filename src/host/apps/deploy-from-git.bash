if [ ! -d @@CODE_DIR@@/src/.git ]; then @@AS_APP@@ git clone --quiet @@GIT@@ @@CODE_DIR@@/src; fi
@@AS_APP@@ git -C @@CODE_DIR@@/src fetch --quiet --tags origin
@@AS_APP@@ git -C @@CODE_DIR@@/src checkout --quiet --force @@REF@@
if [ -f @@CODE_DIR@@/src/requirements.txt ]; then @@PIP@@ install --quiet -r @@CODE_DIR@@/src/requirements.txt; fi
# The deployed commit, for the app to report (GIT_REVISION_HASH is what seed 004's backscope reads).
printf 'GIT_COMMIT=%s
GIT_REVISION_HASH=%s
' "$(@@AS_APP@@ git -C @@CODE_DIR@@/src rev-parse HEAD)" "$(@@AS_APP@@ git -C @@CODE_DIR@@/src rev-parse --short HEAD)" > @@REVISION_ENV@@
