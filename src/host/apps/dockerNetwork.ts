// The app host's private Docker network: a user-defined bridge named `studyhost`, where accessory
// containers (MongoDB) live with no published port, and container apps with `network: private` join
// them and reach them by name. Its subnet is fixed so that the host itself (a Python app, a container
// app on the host's network) can reach an accessory at a fixed address too, and so that the host
// firewall can name its bridge.
//
// Docker hands out containers' own addresses only from the upper half (`dynamicRange`), so an
// accessory's fixed address (MongoDB's .2) can never be taken: after a reboot the app's or a job's
// container may start first, and without the range it got .2 itself and MongoDB's `docker run` failed
// ("Address already in use") until that container stopped, the app answering 500 meanwhile.
import { configFile, HostPart, PATHS, script } from "../document/part";
import { bashScript } from "../document/shell";

export const DOCKER_NETWORK = {
  name: "studyhost",
  /** The bridge interface's name on the host (Docker's default would be br-<id>). */
  bridge: "studyhost0",
  /**
   * Inside 172.16.0.0/12 but away from Docker's own pools' first picks (172.17-172.20) and from the
   * clouds' private networks studyhost makes (10.42.0.0/16 on AWS, 10.x on DigitalOcean).
   */
  subnet: "172.30.232.0/24",
  gateway: "172.30.232.1",
  /** Where Docker picks containers' own addresses; accessories' fixed addresses are below it. */
  dynamicRange: "172.30.232.128/25",
  unit: "studyhost-docker-network.service",
} as const;

const SCRIPT = `${PATHS.sbin}/studyhost-docker-network`;
/** What a failed unit's OnFailure= would start (src/host/system/base.ts), for the one warning that must be seen. */
const ALERT_UNIT = `studyhost-alert@${DOCKER_NETWORK.unit}.service`;

/**
 * Create the network if it is missing; refuse one of the same name with another subnet. A network an
 * earlier studyhost made without the dynamic range is made again while no container is on it (at boot
 * its unit runs before every container's), else left for the next boot with a warning.
 */
export const DOCKER_NETWORK_SH = bashScript(
  `studyhost-docker-network: the private Docker network ${DOCKER_NETWORK.name} (${DOCKER_NETWORK.subnet}), created once.`,
  `
if info=$(docker network inspect --format '{{len .Containers}} {{range .IPAM.Config}}{{.Subnet}} {{.IPRange}}{{end}}' ${DOCKER_NETWORK.name} 2>/dev/null); then
  read -r attached subnet range <<<"$info" || true
  if [ "\${subnet:-}" != "${DOCKER_NETWORK.subnet}" ]; then
    echo "a Docker network ${DOCKER_NETWORK.name} exists with subnet \${subnet:-none}, not ${DOCKER_NETWORK.subnet}: remove it (docker network rm ${DOCKER_NETWORK.name}) or rename it" >&2
    exit 1
  fi
  if [ "\${range:-}" = "${DOCKER_NETWORK.dynamicRange}" ]; then
    exit 0
  fi
  # Never fail here: every container on the network requires this unit. Left as it is, the network
  # still works, and the next boot (when no container is on it yet) makes it again.
  later="so it is made again at the next boot, before its containers start (check: docker network inspect ${DOCKER_NETWORK.name})"
  if [ "$attached" != 0 ]; then
    echo "warning: the Docker network ${DOCKER_NETWORK.name} lets containers take the accessories' fixed addresses (no --ip-range ${DOCKER_NETWORK.dynamicRange}); $attached container(s) use it now, $later" >&2
    exit 0
  fi
  if ! docker network rm ${DOCKER_NETWORK.name} >/dev/null; then
    # Loud, as a failed unit would be, without stopping the containers: a boot that finds the same
    # leftover endpoint every time would otherwise keep the race with no sign but this line.
    echo "warning: the Docker network ${DOCKER_NETWORK.name} (no --ip-range ${DOCKER_NETWORK.dynamicRange}) could not be removed now, $later" >&2
    systemctl start --no-block ${ALERT_UNIT} || true
    exit 0
  fi
  echo "removed the Docker network ${DOCKER_NETWORK.name} made without --ip-range ${DOCKER_NETWORK.dynamicRange}, to make it again"
fi
docker network create --driver bridge --subnet ${DOCKER_NETWORK.subnet} --ip-range ${DOCKER_NETWORK.dynamicRange} \\
  --gateway ${DOCKER_NETWORK.gateway} --opt com.docker.network.bridge.name=${DOCKER_NETWORK.bridge} ${DOCKER_NETWORK.name} >/dev/null
echo "created the Docker network ${DOCKER_NETWORK.name} (${DOCKER_NETWORK.subnet}, containers' own addresses from ${DOCKER_NETWORK.dynamicRange})"
`,
);

/** A oneshot unit that every container on the network requires: the network exists after every boot. */
const UNIT = `[Unit]
Description=studyhost's private Docker network ${DOCKER_NETWORK.name}
After=docker.service
Requires=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${SCRIPT}

[Install]
WantedBy=multi-user.target
`;

export function dockerNetworkPart(): HostPart {
  return {
    packages: ["docker.io"],
    files: [script(SCRIPT, DOCKER_NETWORK_SH), configFile(`${PATHS.units}/${DOCKER_NETWORK.unit}`, UNIT)],
    steps: [{ name: "docker-network", script: `systemctl enable --now docker.service\nsystemctl daemon-reload\nsystemctl enable --now ${DOCKER_NETWORK.unit}` }],
  };
}
