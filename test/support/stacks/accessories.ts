// The stacks with accessory databases (studyhost:accessories) that test/accessories.test.ts reads and
// test/host/accessories.test.ts checks with the real programs.
import { studyConfig } from "../../helpers";

export const PRIVATE_CONTAINER = { kind: "container", name: "emission", image: "ghcr.io/example/emission:3.1", port: 8080, network: "private" };

export function accessoryStacks(): Record<string, Record<string, unknown>> {
  return {
    "small-postgres-python-both": studyConfig("digitalocean", "small", {
      accessories: { mariadb: {}, mongodb: { image: "mongo:7.0@sha256:" + "a".repeat(64), database: "Stage_database".toLowerCase() } },
    }),
    "small-sqlite-mariadb": studyConfig("aws", "small", { database: { engine: "sqlite" }, accessories: { mariadb: { database: "camcops" } } }),
    "large-container-private-mongodb": studyConfig("digitalocean", "large", {
      app: PRIVATE_CONTAINER,
      accessories: { mongodb: {} },
      jobs: [{ name: "intake", schedule: "@daily", command: "python bin/intake.py" }],
    }),
    "two-server-both": studyConfig("aws", "two-server", { accessories: { mariadb: {}, mongodb: {} } }),
  };
}
