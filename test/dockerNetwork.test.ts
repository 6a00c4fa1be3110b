// The private Docker network's script (src/host/apps/dockerNetwork.ts), run with a stand-in `docker` that
// holds one network's state in a file: what it makes, keeps, makes again and refuses. The real Docker
// runs it in the e-mission boot (test/e2e/emission.e2e.ts), where the range is checked on the network
// and on a container's own address.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOCKER_NETWORK, DOCKER_NETWORK_SH, MONGODB } from "../src/host";

/**
 * A stand-in docker for `network inspect | rm | create`: the network is STATE/network ("SUBNET RANGE
 * CONTAINERS", absent when there is none); every call is appended to STATE/calls. `rm` fails while
 * STATE/busy exists (Docker still holding an endpoint). A stand-in systemctl only records its call.
 */
const FAKE_DOCKER = `#!/bin/bash
state=$(dirname "$0")
echo "$*" >>"$state/calls"
[ "$1" = network ] || exit 2
case "$2" in
  inspect)
    [ -f "$state/network" ] || { echo "Error: No such network: $4" >&2; exit 1; }
    read -r subnet range containers <"$state/network"
    [ "$4" = '{{len .Containers}} {{range .IPAM.Config}}{{.Subnet}} {{.IPRange}}{{end}}' ] || exit 2
    echo "$containers $subnet \${range#-}" ;;
  rm) [ ! -f "$state/busy" ] || { echo "Error response from daemon: error while removing network: network $3 has active endpoints" >&2; exit 1; }
      rm "$state/network" ;;
  create)
    args=" $* "
    subnet=\${args#* --subnet }; subnet=\${subnet%% *}
    range=-; [[ "$args" == *" --ip-range "* ]] && { range=\${args#* --ip-range }; range=\${range%% *}; }
    echo "$subnet $range 0" >"$state/network" ;;
esac
`;

function run(network?: string, busy = false) {
  const dir = mkdtempSync(join(tmpdir(), "studyhost-docker-network-"));
  writeFileSync(join(dir, "docker"), FAKE_DOCKER);
  writeFileSync(join(dir, "systemctl"), `#!/bin/bash\necho "systemctl $*" >>"$(dirname "$0")/calls"\n`);
  chmodSync(join(dir, "docker"), 0o755);
  chmodSync(join(dir, "systemctl"), 0o755);
  if (network) writeFileSync(join(dir, "network"), network + "\n");
  if (busy) writeFileSync(join(dir, "busy"), "");
  const r = spawnSync("bash", ["-c", DOCKER_NETWORK_SH], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  const raw = readFileSync(join(dir, "calls"), "utf8").trim().split("\n");
  const calls = raw.map((c) => c.split(" ").slice(0, 2).join(" "));
  const result = {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    calls,
    raw,
    create: raw.find((c) => c.startsWith("network create")),
    network: existsSync(join(dir, "network")) ? readFileSync(join(dir, "network"), "utf8").trim() : undefined,
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

const WITH_RANGE = `${DOCKER_NETWORK.subnet} ${DOCKER_NETWORK.dynamicRange}`;

test("MongoDB's fixed address is in the subnet but outside the range Docker gives containers", () => {
  const n = (ip: string) => ip.split(".").reduce((a, b) => a * 256 + Number(b), 0);
  const inRange = (ip: string, cidr: string) => {
    const [base, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    return n(ip) >= n(base) && n(ip) < n(base) + size;
  };
  expect(inRange(MONGODB.address, DOCKER_NETWORK.subnet)).toBe(true);
  expect(inRange(MONGODB.address, DOCKER_NETWORK.dynamicRange)).toBe(false);
  expect(inRange(DOCKER_NETWORK.gateway, DOCKER_NETWORK.dynamicRange)).toBe(false);
});

test("no network: it is created with the subnet, the dynamic range and the bridge's name", () => {
  const r = run();
  expect(r.status).toBe(0);
  expect(r.network).toBe(`${WITH_RANGE} 0`);
  expect(r.create).toContain(`--gateway ${DOCKER_NETWORK.gateway} --opt com.docker.network.bridge.name=${DOCKER_NETWORK.bridge} ${DOCKER_NETWORK.name}`);
  expect(r.stdout).toContain(`containers' own addresses from ${DOCKER_NETWORK.dynamicRange}`);
});

test("the network as studyhost makes it: left alone", () => {
  const r = run(`${WITH_RANGE} 3`);
  expect([r.status, r.calls]).toEqual([0, ["network inspect"]]);
  expect(r.network).toBe(`${WITH_RANGE} 3`);
});

test("made by an earlier studyhost without the range, no container on it (a boot): made again with it", () => {
  const r = run(`${DOCKER_NETWORK.subnet} - 0`);
  expect([r.status, r.calls]).toEqual([0, ["network inspect", "network rm", "network create"]]);
  expect(r.network).toBe(`${WITH_RANGE} 0`);
  expect(r.stdout).toContain("removed the Docker network studyhost made without --ip-range");
});

test("without the range, containers on it (the unit started again by hand on a running host): kept, with a warning for the next boot", () => {
  const r = run(`${DOCKER_NETWORK.subnet} - 2`);
  expect([r.status, r.calls]).toEqual([0, ["network inspect"]]);
  expect(r.network).toBe(`${DOCKER_NETWORK.subnet} - 2`);
  expect(r.stderr).toContain("2 container(s) use it now, so it is made again at the next boot");
});

test("without the range, no container listed but Docker still holds an endpoint (a container being removed): kept, the alert raised, and the unit does not fail", () => {
  const r = run(`${DOCKER_NETWORK.subnet} - 0`, true);
  expect([r.status, r.calls]).toEqual([0, ["network inspect", "network rm", "systemctl start"]]);
  expect(r.network).toBe(`${DOCKER_NETWORK.subnet} - 0`);
  expect(r.stderr).toContain("could not be removed now, so it is made again at the next boot");
  // Loud as a failed unit would be: the alert its OnFailure= would start.
  expect(r.raw).toContain(`systemctl start --no-block studyhost-alert@${DOCKER_NETWORK.unit}.service`);
});

test("a network of the same name with another subnet: refused, naming both subnets, nothing changed", () => {
  const r = run(`10.9.0.0/24 - 0`);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(`exists with subnet 10.9.0.0/24, not ${DOCKER_NETWORK.subnet}`);
  expect(r.network).toBe(`10.9.0.0/24 - 0`);
});
