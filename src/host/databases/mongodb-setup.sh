#!/bin/bash
# studyhost-mongodb-setup: MongoDB's image, its data folder on the volume, the container started, the app user set up.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
@@REQUIRE_DATA_VOLUME@@
# The image's entrypoint (run as root) gives the data folder to its mongodb user, also a replaced
# machine's folder; a folder with data keeps its users (the root password is the stack's, unchanged).
install -d -m 0750 @@DATADIR@@
@@PULL_IMAGE@@
systemctl daemon-reload
systemctl enable @@UNIT@@
systemctl restart @@UNIT@@
for _ in $(seq 1 60); do
  docker exec @@CONTAINER@@ mongosh --quiet --norc --eval 'db.runCommand({ ping: 1 }).ok' > /dev/null 2>&1 && break
  sleep 2
done
docker exec @@CONTAINER@@ mongosh --quiet --norc --file @@ETC_IN_CONTAINER@@/setup.js
echo "MongoDB answers on the private network at @@ALIAS@@ (@@ADDRESS@@:@@PORT@@), no published port"
