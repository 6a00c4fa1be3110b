#!/bin/bash
# studyhost-docker-network: the private Docker network @@NAME@@ (@@SUBNET@@), created once.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
if info=$(docker network inspect --format '{{len .Containers}} {{range .IPAM.Config}}{{.Subnet}} {{.IPRange}}{{end}}' @@NAME@@ 2>/dev/null); then
  read -r attached subnet range <<<"$info" || true
  if [ "${subnet:-}" != "@@SUBNET@@" ]; then
    echo "a Docker network @@NAME@@ exists with subnet ${subnet:-none}, not @@SUBNET@@: remove it (docker network rm @@NAME@@) or rename it" >&2
    exit 1
  fi
  if [ "${range:-}" = "@@IP_RANGE@@" ]; then
    exit 0
  fi
  # Never fail here: every container on the network requires this unit. Left as it is, the network
  # still works, and the next boot (when no container is on it yet) makes it again.
  later="so it is made again at the next boot, before its containers start (check: docker network inspect @@NAME@@)"
  if [ "$attached" != 0 ]; then
    echo "warning: the Docker network @@NAME@@ lets containers take the accessories' fixed addresses (no --ip-range @@IP_RANGE@@); $attached container(s) use it now, $later" >&2
    exit 0
  fi
  if ! docker network rm @@NAME@@ >/dev/null; then
    # Loud, as a failed unit would be, without stopping the containers: a boot that finds the same
    # leftover endpoint every time would otherwise keep the race with no sign but this line.
    echo "warning: the Docker network @@NAME@@ (no --ip-range @@IP_RANGE@@) could not be removed now, $later" >&2
    systemctl start --no-block @@ALERT_UNIT@@ || true
    exit 0
  fi
  echo "removed the Docker network @@NAME@@ made without --ip-range @@IP_RANGE@@, to make it again"
fi
docker network create --driver bridge --subnet @@SUBNET@@ --ip-range @@IP_RANGE@@ \
  --gateway @@GATEWAY@@ --opt com.docker.network.bridge.name=@@BRIDGE@@ @@NAME@@ >/dev/null
echo "created the Docker network @@NAME@@ (@@SUBNET@@, containers' own addresses from @@IP_RANGE@@)"
