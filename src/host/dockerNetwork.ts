// The app host's private Docker network: a user-defined bridge named `studyhost`, where accessory
// containers (MongoDB) live with no published port, and container apps with `network: private` join
// them and reach them by name. Its subnet is fixed so that the host itself (a Python app, a container
// app on the host's network) can reach an accessory at a fixed address too, and so that the host
// firewall can name its bridge.
import { configFile, HostPart, PATHS, script } from "./part";
import { bashScript } from "./shell";

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
  unit: "studyhost-docker-network.service",
} as const;

const SCRIPT = `${PATHS.sbin}/studyhost-docker-network`;

/** Create the network if it is missing; refuse one of the same name with another subnet. */
export const DOCKER_NETWORK_SH = bashScript(
  `studyhost-docker-network: the private Docker network ${DOCKER_NETWORK.name} (${DOCKER_NETWORK.subnet}), created once.`,
  `
if subnet=$(docker network inspect --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' ${DOCKER_NETWORK.name} 2>/dev/null); then
  if [ "$subnet" != "${DOCKER_NETWORK.subnet}" ]; then
    echo "a Docker network ${DOCKER_NETWORK.name} exists with subnet $subnet, not ${DOCKER_NETWORK.subnet}: remove it (docker network rm ${DOCKER_NETWORK.name}) or rename it" >&2
    exit 1
  fi
  exit 0
fi
docker network create --driver bridge --subnet ${DOCKER_NETWORK.subnet} --gateway ${DOCKER_NETWORK.gateway} \\
  --opt com.docker.network.bridge.name=${DOCKER_NETWORK.bridge} ${DOCKER_NETWORK.name} >/dev/null
echo "created the Docker network ${DOCKER_NETWORK.name} (${DOCKER_NETWORK.subnet})"
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
