// The `studyhost` command: what needs no cloud account.
//   studyhost plan --config Pulumi.small.yaml [--json] [--out DIR]
//   studyhost diff --base BASE.json --head HEAD.json [--stack NAME]
//   studyhost local --config Pulumi.small.yaml | --stop
import { parseArgs } from "node:util";
import { ConfigError } from "../config";
import { planProgram, readStackFile, StackFileError } from "../plan";
import { diffPlans, formatDiffMarkdown, PlanFileError, readPlanFile, stackOfPlan } from "./diff";
import { formatPlan, planJson } from "./format";
import { local, LOCAL_HELP, LOCAL_USAGE } from "./local";
import { writeHostFiles } from "../plan/hostFiles";

const USAGE = `usage: studyhost plan --config Pulumi.<stack>.yaml [--json] [--out DIR]
       studyhost diff --base BASE.json --head HEAD.json [--stack NAME]
${LOCAL_USAGE}

  plan   run the stack under Pulumi's mock engine (no cloud account, no Pulumi CLI) and print every
         resource with its inputs and options, the stack outputs and the monthly cost.
         --json      print one JSON object { resources, outputs, cost }
         --out DIR   write each host's user data and the files it installs under DIR/<host>/

  diff   compare two files written by \`plan --json\` (say, a pull request's base and head) and print, as
         Markdown, the resources added, removed and changed and the change in monthly cost.
         --stack NAME  the stack named in the heading (default: the one in the plans' URNs)

${LOCAL_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "diff") return diff(rest);
  if (command === "local") return local(rest);
  if (command !== "plan") {
    const help = command === "--help" || command === "-h";
    process.stderr.write(`${command && !help ? `unknown command: ${command}\n` : ""}${USAGE}\n`);
    return help ? 0 : 2;
  }
  let values: { config?: string; json?: boolean; out?: string };
  try {
    ({ values } = parseArgs({ args: rest, options: { config: { type: "string" }, json: { type: "boolean" }, out: { type: "string" } } }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!values.config) {
    process.stderr.write(`studyhost plan needs --config, e.g. --config Pulumi.small.yaml\n`);
    return 2;
  }
  try {
    const file = readStackFile(values.config);
    const plan = await planProgram({ stack: file.stack, config: file.config, secretKeys: file.secretKeys });
    if (values.out) {
      const hosts = writeHostFiles(plan, values.out);
      if (!values.json) for (const h of hosts) process.stderr.write(`wrote ${h.files.length} files for ${h.host} under ${h.dir}\n`);
    }
    process.stdout.write(values.json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : formatPlan(file.stack, plan));
    return 0;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StackFileError || (err as { code?: string })?.code === "ENOENT") {
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

function diff(args: string[]): number {
  let values: { base?: string; head?: string; stack?: string };
  try {
    ({ values } = parseArgs({ args, options: { base: { type: "string" }, head: { type: "string" }, stack: { type: "string" } } }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!values.base || !values.head) {
    process.stderr.write(`studyhost diff needs --base and --head, e.g. --base base.json --head head.json\n`);
    return 2;
  }
  try {
    const [base, head] = [readPlanFile(values.base), readPlanFile(values.head)];
    const stack = values.stack ?? stackOfPlan(head) ?? stackOfPlan(base) ?? "stack";
    process.stdout.write(formatDiffMarkdown(diffPlans(base, head), stack));
    return 0;
  } catch (err) {
    if (!(err instanceof PlanFileError)) throw err;
    process.stderr.write(`studyhost diff: ${err.message}\n`);
    return 1;
  }
}
