// `studyhost local`: boot a stack on this machine (src/local) and say how to reach it and stop it.
import { parseArgs } from "node:util";
import { ConfigError } from "../config";
import { StackFileError } from "../plan";
import { DEFAULT_LAB, LocalError, LocalStart, startLocalStack, stopLocalStack } from "../local/stack";

export const LOCAL_USAGE = `       studyhost local --config Pulumi.<stack>.yaml [--app-source DIR] [--lab N]
       studyhost local --stop [--lab N]`;

export const LOCAL_HELP = `  local  boot the stack's hosts on this machine (Linux, root, systemd-nspawn), from exactly the user
         data \`plan\` renders, with a local ACME server (Pebble) instead of Let's Encrypt; it keeps
         running until \`studyhost local --stop\`, which removes the hosts, their data and the network.
         --app-source DIR  serve the git repository DIR to the host as the app's source
         --lab N           run beside other local stacks (network 10.231.N.0/24; default ${DEFAULT_LAB})`;

export async function local(args: string[]): Promise<number> {
  let values: { config?: string; stop?: boolean; "app-source"?: string; lab?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { config: { type: "string" }, stop: { type: "boolean" }, "app-source": { type: "string" }, lab: { type: "string" } },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: ${LOCAL_USAGE.trim()}\n`);
    return 2;
  }
  const lab = values.lab === undefined ? DEFAULT_LAB : Number(values.lab);
  if (!Number.isInteger(lab) || lab < 0 || lab > 255) {
    process.stderr.write(`studyhost local: --lab takes a number from 0 to 255 (got ${values.lab})\n`);
    return 2;
  }
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    if (values.stop) {
      for (const line of await stopLocalStack({ lab })) say(`studyhost local --stop: ${line}`);
      return 0;
    }
    if (!values.config) {
      say("studyhost local needs --config (to start a stack) or --stop, e.g. --config Pulumi.small.yaml");
      return 2;
    }
    const started = await startLocalStack({ configFile: values.config, appSource: values["app-source"], lab, log: say });
    process.stdout.write(describe(started, lab));
    return Object.values(started.problems).some((p) => p.length) ? 1 : 0;
  } catch (err) {
    if (err instanceof LocalError || err instanceof ConfigError || err instanceof StackFileError || (err as { code?: string })?.code === "ENOENT") {
      say((err as Error).message);
      return 1;
    }
    // Anything else (a tool that failed, a host that never came up): what it said, not a stack trace.
    say(`studyhost local failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** What the user needs to reach the running stack, and to stop it. */
export function describe({ state, problems, timings }: LocalStart, lab: number): string {
  const app = state.hosts[0];
  const stop = `studyhost local --stop${lab === DEFAULT_LAB ? "" : ` --lab ${lab}`}`;
  const lines = [
    `The ${state.stack} stack is running on this machine (booted and provisioned in ${Math.round(timings.bootToProvisionedMs / 1000)} s).`,
    ``,
    `  url      ${state.url}`,
    ...state.hosts.map((h) => `  address  ${h.address}  ${h.name}${h.privateAddress ? ` (private ${h.privateAddress})` : ""}`),
    `  try it   curl --cacert ${state.caFile} --resolve ${state.domain}:443:${app.address} ${state.url}`,
    `           (a browser: add "${app.address} ${state.domain}" to /etc/hosts and trust ${state.caFile},`,
    `           the local ACME server's root, new at every start)`,
    ...(state.adminAddress
      ? [`  ssh      ip netns exec ${state.internetNetns} ssh -b ${state.adminAddress} ${state.adminUser}@${app.address}  (with a key of studyhost:sshKeys)`]
      : []),
    `  a shell  nsenter -t $(pgrep -P $(cat ${app.dir}/nspawn.pid) systemd) -a bash`,
    `  stop     ${stop}   (removes the hosts and their data)`,
  ];
  const failing = Object.entries(problems).filter(([, p]) => p.length);
  if (failing.length) {
    lines.push("", "But not everything came up:");
    for (const [host, p] of failing) for (const line of p) lines.push(`  ${host}: ${line}`);
    lines.push(`It is left running so you can look (the shell above); \`${stop}\` removes it.`);
  }
  return `${lines.join("\n")}\n`;
}
