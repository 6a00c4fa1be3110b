// The difference between two offline plans, as a pull-request comment.
//
// `pulumi preview` needs a Pulumi backend and cloud credentials, which a pull request from a fork (or
// a reviewer's laptop) does not have. `studyhost plan --json` needs neither, so CI plans every stack
// on the base and on the head of a pull request, and this module says what the change would do:
// which resources appear, disappear or change (and which of their inputs and options), and what it
// does to the monthly cost. Reviewers see that before anyone runs `pulumi up` against participants'
// data. It is a review aid, not a preview: the mock engine knows nothing of the live state.
//
// diffPlans and formatDiffMarkdown are pure; readPlanFile reads and checks a `plan --json` file.
import { readFileSync } from "node:fs";

/** One resource as `studyhost plan --json` prints it. */
export interface PlanJsonResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string | null;
  readonly inputs: Record<string, unknown>;
  readonly options: Record<string, unknown>;
}

/** What `studyhost plan --json` prints: `{ resources, outputs, cost }`. */
export interface PlanJson {
  readonly resources: readonly PlanJsonResource[];
  readonly outputs?: Record<string, unknown>;
  readonly cost?: { readonly monthlyUsd: number; readonly note?: string };
}

export interface ResourceRef {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
}

export interface ResourceChange extends ResourceRef {
  /** Top-level input keys whose values differ, sorted. */
  readonly inputs: string[];
  /** Before and after, for those changed inputs that are plain strings, numbers or booleans. */
  readonly values: Record<string, { readonly before: Scalar; readonly after: Scalar }>;
  /** Option names (protect, ignoreChanges, dependsOn, ...) whose values differ, sorted. */
  readonly options: string[];
}

type Scalar = string | number | boolean;
const isScalar = (v: unknown): v is Scalar => ["string", "number", "boolean"].includes(typeof v);

export interface PlanDiff {
  readonly added: ResourceRef[];
  /** Removed resources, with the options that guard data (protect, retainOnDelete) they had. */
  readonly removed: (ResourceRef & { readonly guards: string[] })[];
  readonly changed: ResourceChange[];
  readonly cost: { readonly before: number; readonly after: number; readonly delta: number };
}

/** Deep equality on JSON values; object key order does not matter. Plans mask secrets as
 * "[secret <digest>]", so a secret whose (placeholder-filled) content changed shows as changed. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function differingKeys(a: Record<string, unknown> = {}, b: Record<string, unknown> = {}): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !same(a[k], b[k])).sort();
}

const ref = (r: PlanJsonResource): ResourceRef => ({ urn: r.urn, type: r.type, name: r.name });
const cents = (n: number) => Math.round(n * 100) / 100;

/** Compare two plans resource by resource (matched by URN), and their monthly cost. */
export function diffPlans(base: PlanJson, head: PlanJson): PlanDiff {
  const before = new Map(base.resources.map((r) => [r.urn, r]));
  const after = new Map(head.resources.map((r) => [r.urn, r]));
  const changed: ResourceChange[] = [];
  for (const [urn, h] of after) {
    const b = before.get(urn);
    if (!b) continue;
    const inputs = differingKeys(b.inputs, h.inputs);
    const options = differingKeys(b.options, h.options);
    if (!inputs.length && !options.length) continue;
    const values: ResourceChange["values"] = {};
    for (const k of inputs) {
      const [x, y] = [b.inputs?.[k], h.inputs?.[k]];
      if (isScalar(x) && isScalar(y)) values[k] = { before: x, after: y };
    }
    changed.push({ ...ref(h), inputs, options, values });
  }
  const costBefore = base.cost?.monthlyUsd ?? 0;
  const costAfter = head.cost?.monthlyUsd ?? 0;
  return {
    added: head.resources.filter((r) => !before.has(r.urn)).map(ref),
    removed: base.resources
      .filter((r) => !after.has(r.urn))
      .map((r) => ({ ...ref(r), guards: ["protect", "retainOnDelete"].filter((o) => r.options?.[o] === true) })),
    changed,
    cost: { before: costBefore, after: costAfter, delta: cents(costAfter - costBefore) },
  };
}

export function isEmptyDiff(d: PlanDiff): boolean {
  return !d.added.length && !d.removed.length && !d.changed.length && d.cost.delta === 0;
}

const usd = (n: number) => `${n < 0 ? "-" : ""}$${Math.abs(n).toFixed(2)}`;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s+/g, " ");
const short = (v: Scalar) => (String(v).length > 40 ? `${String(v).slice(0, 37)}...` : String(v));

/** The cost line, e.g. "Monthly cost: $7.00 → $29.00 (+$22.00)". */
export function formatCostLine(cost: PlanDiff["cost"]): string {
  if (cost.delta === 0) return `Monthly cost: ${usd(cost.after)} (unchanged)`;
  return `Monthly cost: ${usd(cost.before)} → ${usd(cost.after)} (${cost.delta > 0 ? "+" : ""}${usd(cost.delta)})`;
}

/** A short Markdown section for one stack: a heading, a summary, the cost line and a table. */
export function formatDiffMarkdown(diff: PlanDiff, stackName: string): string {
  const out = [`### Stack \`${stackName}\``, ""];
  if (isEmptyDiff(diff)) {
    out.push("No changes.", "", formatCostLine(diff.cost));
    return out.join("\n") + "\n";
  }
  const { added, changed, removed } = diff;
  out.push(`${added.length} to add, ${changed.length} to change, ${removed.length} to remove.`, "", formatCostLine(diff.cost));
  if (added.length + changed.length + removed.length) {
    out.push("", "| | Resource | Type | What changes |", "|---|---|---|---|");
    const row = (mark: string, r: ResourceRef, what: string) => out.push(`| ${mark} | \`${cell(r.name)}\` | \`${cell(r.type)}\` | ${cell(what)} |`);
    for (const r of added) row("+", r, "");
    for (const r of changed) {
      const inputs = r.inputs.map((k) => (r.values[k] ? `${k} (${short(r.values[k].before)} → ${short(r.values[k].after)})` : k));
      row("~", r, [inputs.length ? `inputs: ${inputs.join(", ")}` : "", r.options.length ? `options: ${r.options.join(", ")}` : ""].filter(Boolean).join("; "));
    }
    for (const r of removed) row("-", r, r.guards.length ? `**${r.guards.join(", ")}**: Pulumi will not delete its data` : "");
  }
  return out.join("\n") + "\n";
}

/** Thrown by parsePlanJson with a one-line message. */
export class PlanFileError extends Error {}

/** Parse and check the text of a file written by `studyhost plan --json`; `source` names it in errors. */
export function parsePlanJson(text: string, source: string): PlanJson {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PlanFileError(`${source} is not JSON (${(err as Error).message.replace(/\s+/g, " ")}); expected the output of \`studyhost plan --json\``);
  }
  const resources = (doc as { resources?: unknown } | null)?.resources;
  if (!Array.isArray(resources) || !resources.every((r) => r && typeof r === "object" && typeof (r as PlanJsonResource).urn === "string")) {
    throw new PlanFileError(`${source} has no "resources" list of {urn, type, name, inputs, options}; expected the output of \`studyhost plan --json\``);
  }
  return doc as PlanJson;
}

/** The stack named in a plan's URNs (`urn:pulumi:<stack>::<project>::...`), if any. */
export function stackOfPlan(plan: PlanJson): string | undefined {
  for (const r of plan.resources) {
    const m = /^urn:pulumi:([^:]+)::/.exec(r.urn);
    if (m) return m[1];
  }
  return undefined;
}

/** Read a file written by `studyhost plan --json`; a missing or malformed file throws PlanFileError. */
export function readPlanFile(path: string): PlanJson {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new PlanFileError(`cannot read ${path}: ${(err as { code?: string }).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  return parsePlanJson(text, path);
}
