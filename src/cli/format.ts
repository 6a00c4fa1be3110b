// Human-readable rendering of a plan: resources as a tree under their parents, with inputs and the
// options that protect data, then the outputs and the monthly cost.
import { stringify } from "yaml";
import type { PlannedResource, PlanResult } from "../plan";
import { TIER_TABLE, TierName } from "../tiers";

const usd = (n: number) => `$${n.toFixed(2)}`;

function optionWords(r: PlannedResource): string[] {
  const words: string[] = [];
  if (r.options.protect) words.push("protect");
  if (r.options.retainOnDelete) words.push("retainOnDelete");
  if (r.options.deleteBeforeReplace) words.push("deleteBeforeReplace");
  if (r.options.ignoreChanges.length) words.push(`ignoreChanges [${r.options.ignoreChanges.join(", ")}]`);
  return words;
}

function indent(text: string, pad: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => pad + l)
    .join("\n");
}

export function formatPlan(stack: string, plan: PlanResult): string {
  const out: string[] = [];
  const children = new Map<string | undefined, PlannedResource[]>();
  const urns = new Set(plan.resources.map((r) => r.urn));
  for (const r of plan.resources) {
    const parent = r.parent && urns.has(r.parent) ? r.parent : undefined;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const custom = plan.resources.filter((r) => r.custom).length;
  const tier = TIER_TABLE[plan.outputs.tier as TierName];
  const tierText = tier ? `, tier ${tier.name} (${tier.audience})` : "";
  out.push(
    `Plan of stack "${stack}"${tierText}, offline under Pulumi's mock engine: ${custom} cloud resources in ${plan.resources.length - custom} components`,
    "",
  );
  const walk = (parent: string | undefined, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      const pad = "  ".repeat(depth + 1);
      out.push(`${pad}+ ${r.type}  ${r.name}`);
      const words = optionWords(r);
      if (words.length) out.push(`${pad}    options: ${words.join(", ")}`);
      if (r.custom && Object.keys(r.inputs).length) out.push(indent(stringify(r.inputs, { lineWidth: 0 }), `${pad}    `));
      walk(r.urn, depth + 1);
    }
  };
  walk(undefined, 0);

  out.push("", "Outputs:");
  const { cost: _cost, dnsRecords, ...rest } = plan.outputs as Record<string, unknown>;
  for (const [k, v] of Object.entries(rest)) out.push(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
  if (Array.isArray(dnsRecords)) {
    out.push("  dnsRecords:");
    for (const r of dnsRecords as { name: string; type: string; value: string }[]) out.push(`    ${r.name} ${r.type} ${r.value}`);
  }

  out.push("", `Monthly cost, ${plan.cost.note}:`);
  const width = Math.max(...plan.cost.items.map((i) => i.item.length), 5);
  for (const i of plan.cost.items) out.push(`  ${i.item.padEnd(width)}  ${usd(i.monthlyUsd).padStart(8)}`);
  out.push(`  ${"total".padEnd(width)}  ${usd(plan.cost.monthlyUsd).padStart(8)}`);
  return out.join("\n") + "\n";
}

/** The --json form: `{ resources, outputs, cost }`. */
export function planJson(plan: PlanResult): object {
  return {
    resources: plan.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, inputs: r.inputs, options: r.options })),
    outputs: plan.outputs,
    cost: { monthlyUsd: plan.cost.monthlyUsd, items: plan.cost.items, note: plan.cost.note },
  };
}
