// The `studyhost` command: what needs no cloud account.
//   studyhost plan --config Pulumi.small.yaml [--json] [--out DIR]
import { parseArgs } from "node:util";
import { ConfigError } from "../config";
import { planProgram, readStackFile } from "../plan";
import { formatPlan, planJson } from "./format";
import { writeHostFiles } from "./hostFiles";

const USAGE = `usage: studyhost plan --config Pulumi.<stack>.yaml [--json] [--out DIR]

  plan   run the stack under Pulumi's mock engine (no cloud account, no Pulumi CLI) and print every
         resource with its inputs and options, the stack outputs and the monthly cost.
         --json      print one JSON object { resources, outputs, cost }
         --out DIR   write each host's user data and the files it installs under DIR/<host>/`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== "plan") {
    process.stderr.write(`${command ? `unknown command: ${command}\n` : ""}${USAGE}\n`);
    return command === "--help" || command === "-h" ? 0 : 2;
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
    if (err instanceof ConfigError || (err as { code?: string })?.code === "ENOENT") {
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}
