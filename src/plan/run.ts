// The offline plan: run the stack program in-process under Pulumi's mock engine and record every
// resource with its inputs and options (protect, retainOnDelete, ignoreChanges, deleteBeforeReplace).
// Resource options never reach the mocks, so we read them off the mock monitor's requests.
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { fromPulumiConfig } from "../config";
import { parseStudyConfig } from "../../stacks/config";
import { studyMocks } from "./mocks";
import type { CostSummary } from "../tiers/cost";

export interface ResourceOptionsSeen {
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
  readonly dependsOn: readonly string[];
}

export interface PlannedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** The parent's URN, or undefined for the stack itself. */
  readonly parent?: string;
  /** True for cloud resources, false for components. */
  readonly custom: boolean;
  /** Inputs with secret values replaced by "[secret]". */
  readonly inputs: Record<string, unknown>;
  readonly options: ResourceOptionsSeen;
}

export interface PlanResult {
  readonly resources: PlannedResource[];
  readonly outputs: Record<string, unknown>;
  readonly cost: CostSummary;
  /** Raw inputs by URN, secrets included (mock placeholders): for writing hosts' user data. Not printed. */
  readonly rawInputs: ReadonlyMap<string, Record<string, unknown>>;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270";

function isSecret(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_MARK;
}

/**
 * Replace secret values with "[secret <digest>]". The digest (of the plan's placeholder-filled value,
 * never of a real secret) lets a diff of two plans see that, say, a host's user data changed.
 */
export function maskSecrets(value: unknown): unknown {
  if (isSecret(value)) {
    const digest = createHash("sha256")
      .update(JSON.stringify(revealSecrets(value.value)) ?? "")
      .digest("hex")
      .slice(0, 12);
    return `[secret ${digest}]`;
  }
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v)]));
  return value;
}

/** Take secret values out of their wrappers. */
export function revealSecrets(value: unknown): unknown {
  if (isSecret(value)) return revealSecrets(value.value);
  if (Array.isArray(value)) return value.map(revealSecrets);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealSecrets(v)]));
  return value;
}

export interface PlanOptions {
  /** The stack's name, as in Pulumi.<stack>.yaml. */
  readonly stack: string;
  /** Config as Pulumi passes it: "studyhost:key" -> string (objects as JSON text). */
  readonly config: Record<string, string>;
  readonly secretKeys?: readonly string[];
  /** The program: by default the studyhost stack program. */
  readonly program?: () => unknown;
}

/**
 * Run a program under mocks and collect what it would create. Errors thrown by the program (a bad
 * config among them) reject the returned promise, before any resource is registered.
 */
export async function planProgram(options: PlanOptions): Promise<PlanResult> {
  const inputsByKey = new Map<string, Record<string, unknown>>();
  const seen: { key: string; urn?: string; type: string; name: string; parent?: string; custom: boolean; options: ResourceOptionsSeen }[] = [];

  if (!options.program) {
    // The studyhost program validates its config first thing; doing it here too means a bad config
    // rejects with its one-line ConfigError before the mock engine even starts.
    parseStudyConfig(fromPulumiConfig(options.config));
  }
  pulumi.runtime.setAllConfig(options.config, [...(options.secretKeys ?? [])]);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        inputsByKey.set(`${args.type}::${args.name}`, args.inputs);
        return studyMocks.newResource(args);
      },
      call: studyMocks.call,
    },
    "studyhost",
    options.stack,
    false,
  );

  const monitor = (pulumi.runtime as any).getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) => {
    const entry = {
      key: `${req.getType()}::${req.getName()}`,
      type: req.getType() as string,
      name: req.getName() as string,
      parent: (req.getParent() as string) || undefined,
      custom: req.getCustom() as boolean,
      options: {
        protect: Boolean(req.hasProtect?.() ? req.getProtect() : req.getProtect?.()),
        retainOnDelete: Boolean(req.hasRetainondelete?.() ? req.getRetainondelete() : false),
        deleteBeforeReplace: Boolean(req.getDeletebeforereplacedefined() && req.getDeletebeforereplace()),
        ignoreChanges: [...req.getIgnorechangesList()] as string[],
        dependsOn: [...req.getDependenciesList()] as string[],
      },
    } as (typeof seen)[number];
    seen.push(entry);
    return register(req, (err: unknown, res: any) => {
      if (res) {
        entry.urn = res.getUrn();
        // The real engine refuses two resources with one URN; the mock engine does not, so we do.
        if (seen.some((other) => other !== entry && other.urn === entry.urn)) {
          err = new Error(`two resources would have the same URN ${entry.urn}: names must be unique`);
        }
      }
      callback(err, err ? undefined : res);
    });
  };

  // Loaded only when it runs: a caller's own program never loads the stacks' components and clouds.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = options.program ?? (() => require("../../stacks/program").studyProgram());
  // A program that throws also rejects promises inside Pulumi's stack resource that nobody awaits;
  // `pulumi up`'s language host absorbs those, and so must we, or Node ends the process.
  // But an error inside an input's apply (say, user data over the cloud's limit) is only such a
  // rejection: the program then never finishes, and the process would end without a word. So the first
  // one is reported if the program has not settled shortly after.
  let failLater: (reason: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (failLater = reject));
  const absorb = (reason: unknown) => {
    setTimeout(() => failLater(reason), 200);
  };
  process.on("unhandledRejection", absorb);
  let outputs: Record<string, unknown>;
  try {
    const run = (async () => {
      const out = ((await pulumi.runtime.runInPulumiStack(async () => program())) ?? {}) as Record<string, unknown>;
      await pulumi.runtime.awaitStackRegistrations();
      return out;
    })();
    failed.catch(() => undefined);
    outputs = await Promise.race([run, failed]);
    // Let the stack's own registerOutputs call finish, so no RPC is left in flight.
    await Promise.race([pulumi.runtime.disconnect(), failed]);
  } finally {
    monitor.registerResource = register;
    process.off("unhandledRejection", absorb);
  }

  const resources: PlannedResource[] = seen
    .filter((r) => r.type !== "pulumi:pulumi:Stack")
    .map((r) => ({
      urn: r.urn ?? "",
      type: r.type,
      name: r.name,
      parent: r.parent,
      custom: r.custom,
      inputs: maskSecrets(inputsByKey.get(r.key) ?? {}) as Record<string, unknown>,
      options: r.options,
    }));
  const rawInputs = new Map(seen.map((r) => [r.urn ?? "", revealSecrets(inputsByKey.get(r.key) ?? {}) as Record<string, unknown>]));
  return { resources, outputs: maskSecrets(outputs) as Record<string, unknown>, cost: outputs.cost as CostSummary, rawInputs };
}
