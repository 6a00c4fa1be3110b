// PostgresHost became DatabaseHost (it may run MariaDB alone). Its type token is part of every URN
// under it, so a stack created under the old name would see its database host, and the protected VM
// and volume under it, as deleted and created anew; the component's alias to the old type is what
// keeps their state. The old program's URNs are those recorded by test/fixtures/baseline-plans.json
// (planned by commit 0acacc0, when the class was PostgresHost); the new program runs here under the
// same mock engine, with the SDK resolving each alias to a URN as it does for an engine that takes
// only URNs (the mock engine would otherwise take the alias's parts and resolve nothing).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseHost, PostgresHost } from "../components";
import { studyMocks } from "../src/plan";
import { parseStudyConfig } from "../stacks/config";
import { Study } from "../stacks/study";
import { baselineConfigs } from "./support/baseline";

const OLD_TYPE = "studyhost:database:PostgresHost";
const NEW_TYPE = "studyhost:database:DatabaseHost";

interface Registered {
  readonly type: string;
  readonly name: string;
  urn?: string;
  /** The URNs this resource answers to in state written by an older program. */
  readonly aliases: string[];
}

/** The Study of `config`, registered under the mock engine as stack `stack`. */
async function register(stack: string, config: Record<string, unknown>): Promise<Registered[]> {
  await pulumi.runtime.setMocks(studyMocks, "studyhost", stack, false);
  const monitor = (pulumi.runtime as any).getMonitor();
  // Ask the SDK for alias URNs (what it sends an engine without structured aliases) instead of the
  // alias's parts: a URN is what the old state is looked up by.
  const supportsFeature = monitor.supportsFeature.bind(monitor);
  monitor.supportsFeature = (req: any, callback: (err: unknown, res: unknown) => void) =>
    req.getId() === "aliasSpecs" ? callback(null, { getHassupport: () => false }) : supportsFeature(req, callback);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@pulumi/pulumi/runtime/state").getStore().supportsAliasSpecs = false;
  const seen: Registered[] = [];
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) => {
    const entry: Registered = { type: req.getType(), name: req.getName(), aliases: req.getAliasurnsList().map(inMockForm) };
    seen.push(entry);
    return registerResource(req, (err: unknown, res: any) => {
      if (res) entry.urn = res.getUrn();
      callback(err, res);
    });
  };
  await pulumi.runtime.runInPulumiStack(async () => {
    new Study("study", parseStudyConfig(config));
    return {};
  });
  // Components register their outputs after the program returns: let them, before the next mocks.
  await pulumi.runtime.awaitStackRegistrations();
  await pulumi.runtime.disconnect();
  return seen;
}

/**
 * A URN as the mock engine writes it: its type qualified by its parent's type alone (newUrn in
 * @pulumi/pulumi's runtime/mocks.js). The SDK resolves an alias as a real engine does, with the whole
 * chain of parent types (here from the Stack down); the recorded URNs are the mock engine's.
 */
function inMockForm(urn: string): string {
  const [stack, project, type, name] = urn.split("::");
  return [stack, project, type.split("$").slice(-2).join("$"), name].join("::");
}

const recorded = JSON.parse(readFileSync(join(__dirname, "fixtures/baseline-plans.json"), "utf8")) as Record<
  string,
  { resources: { type: string; name: string; urn: string }[] }
>;

// Own-host placement (the VM, its volume and attachment under the database host) on both clouds, and
// same-host placement (only the generated passwords under it).
describe.each(["digitalocean-two-server-git", "aws-two-server-git", "digitalocean-small-postgres-container"])(
  "a stack planned under PostgresHost: %s",
  (label) => {
    let now: Registered[];
    const old = recorded[label].resources;
    beforeAll(async () => {
      now = await register(label, baselineConfigs()[label]);
    });

    test("registers the database host under its new type, aliased to its old URN", () => {
      const [before] = old.filter((r) => r.type === OLD_TYPE);
      const [host, ...more] = now.filter((r) => r.type === NEW_TYPE);
      expect(more).toEqual([]);
      expect(host.urn).toBe(before.urn.replace(OLD_TYPE, NEW_TYPE));
      expect(host.aliases).toContain(before.urn);
    });

    test("keeps every resource's identity: its old URN is its URN or one of its aliases", () => {
      const underHost = old.filter((r) => r.urn.includes(OLD_TYPE));
      expect(underHost.length).toBeGreaterThanOrEqual(label.includes("two-server") ? 6 : 3);
      for (const before of old) {
        const after = now.find((r) => r.name === before.name && r.type === before.type.replace(OLD_TYPE, NEW_TYPE));
        expect({ resource: before.urn, found: Boolean(after) }).toEqual({ resource: before.urn, found: true });
        if (before.urn.includes(OLD_TYPE)) {
          // The children's URNs name their parent's type: they keep theirs through the parent's alias.
          expect(after!.urn).toBe(before.urn.replaceAll(OLD_TYPE, NEW_TYPE));
          expect(after!.aliases).toContain(before.urn);
        } else {
          expect(after!.urn).toBe(before.urn);
        }
      }
    });
  },
);

test("PostgresHost is DatabaseHost under its former name", () => {
  expect(PostgresHost).toBe(DatabaseHost);
});
