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
import { fillAsset } from "../document/template";

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
export const DOCKER_NETWORK_SH = fillAsset(__dirname, "studyhost-docker-network.sh", {
  NAME: DOCKER_NETWORK.name,
  SUBNET: DOCKER_NETWORK.subnet,
  IP_RANGE: DOCKER_NETWORK.dynamicRange,
  GATEWAY: DOCKER_NETWORK.gateway,
  BRIDGE: DOCKER_NETWORK.bridge,
  ALERT_UNIT,
});

/** A oneshot unit that every container on the network requires: the network exists after every boot. */
const UNIT = fillAsset(__dirname, "studyhost-docker-network.service", { NAME: DOCKER_NETWORK.name, SCRIPT });

export function dockerNetworkPart(): HostPart {
  return {
    packages: ["docker.io"],
    files: [script(SCRIPT, DOCKER_NETWORK_SH), configFile(`${PATHS.units}/${DOCKER_NETWORK.unit}`, UNIT)],
    steps: [
      { name: "docker-network", script: `systemctl enable --now docker.service\nsystemctl daemon-reload\nsystemctl enable --now ${DOCKER_NETWORK.unit}` },
    ],
  };
}
