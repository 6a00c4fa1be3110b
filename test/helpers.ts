// Shared test fixtures: a valid study configuration per cloud and tier, and a plan of it under the
// same mock engine `studyhost plan` uses.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { wholeDocument } from "../src/plan/hostFiles";
import { fileContent, unpackUserData } from "../src/clouds/userData";
import { ConfigError, fromPulumiConfig } from "../src/config";
import { parseStudyConfig } from "../stacks/config";
import { planProgram, PlanResult, PlannedResource, readStackFile } from "../src/plan";
import type { CloudName } from "../src/tiers";
import { Study } from "../stacks/study";

/** The example stacks' placeholder: a well-formed ed25519 public key whose key material is all zeros. */
export const PLACEHOLDER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA placeholder-replace-with-your-own-public-key";

export function studyConfig(cloud: CloudName, tier: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cloud,
    tier,
    domain: "study.example.org",
    extraDomains: ["www.study.example.org"],
    adminEmail: "research-it@example.org",
    adminCidrs: ["203.0.113.0/24", "2001:db8:1::/48"],
    sshKeys: [PLACEHOLDER_KEY],
    app: {
      kind: "python",
      name: "study",
      source: { git: "https://git.example.org/lab/study.git", ref: "v1.0.0" },
      start: "gunicorn -b 127.0.0.1:${PORT} app:app",
    },
    ...overrides,
  };
}

/** Config as the Pulumi CLI hands it to a program: "studyhost:key" -> string, objects as JSON. */
export function asPulumiConfig(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [`studyhost:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}

export function planOf(config: Record<string, unknown>, stack = "test"): Promise<PlanResult> {
  return planProgram({ stack, config: asPulumiConfig(config) });
}

/**
 * A plan of the Study component itself (not the stack program), with the Study object, so that a
 * test can inspect its outputs (are the generated secrets Pulumi secrets?) beside what was registered.
 */
export async function planStudy(config: Record<string, unknown>, stack = "test"): Promise<{ plan: PlanResult; study: Study }> {
  let study!: Study;
  const plan = await planProgram({
    stack,
    config: {},
    program: () => {
      study = new Study("study", parseStudyConfig(config));
      return {};
    },
  });
  return { plan, study };
}

/** The cloud resource types a study has on each cloud, for tests that run on both. */
export const CLOUD_TYPES = {
  digitalocean: {
    machine: "digitalocean:index/droplet:Droplet",
    volume: "digitalocean:index/volume:Volume",
    attachment: "digitalocean:index/volumeAttachment:VolumeAttachment",
    addressAttachment: "digitalocean:index/reservedIpAssignment:ReservedIpAssignment",
    firewall: "digitalocean:index/firewall:Firewall",
  },
  aws: {
    machine: "aws:ec2/instance:Instance",
    volume: "aws:ebs/volume:Volume",
    attachment: "aws:ec2/volumeAttachment:VolumeAttachment",
    addressAttachment: "aws:ec2/eipAssociation:EipAssociation",
    firewall: "aws:ec2/securityGroup:SecurityGroup",
  },
} as const;

/** One inbound rule of a cloud firewall, the same on both clouds: the port and who may connect. */
export interface Inbound {
  /** "443", or a range "8000-8010". */
  readonly port: string;
  /** CIDR blocks (IPv4 and IPv6 together), or the tag / security group of another firewall's members. */
  readonly from: readonly string[];
}

/** The inbound rules of a cloud firewall (a DigitalOcean Firewall or an AWS security group). */
export function inboundRules(fw: PlannedResource): Inbound[] {
  if (fw.type === CLOUD_TYPES.digitalocean.firewall) {
    return (fw.inputs.inboundRules as { portRange: string; sourceAddresses?: string[]; sourceTags?: string[] }[]).map((r) => ({
      port: r.portRange,
      from: r.sourceAddresses ?? r.sourceTags ?? [],
    }));
  }
  type Ingress = { fromPort: number; toPort: number; cidrBlocks?: string[]; ipv6CidrBlocks?: string[]; securityGroups?: string[] };
  return (fw.inputs.ingress as Ingress[]).map((r) => ({
    port: r.fromPort === r.toPort ? String(r.fromPort) : `${r.fromPort}-${r.toPort}`,
    from: [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? []), ...(r.securityGroups ?? [])],
  }));
}

/**
 * How other firewalls name a machine as a source: its firewall's tag (DigitalOcean) or security group
 * (AWS). Each machine is in exactly one firewall, so this is the first and only one.
 */
export function firewallRefOf(machine: PlannedResource): string {
  const refs = (machine.type === CLOUD_TYPES.digitalocean.machine ? machine.inputs.tags : machine.inputs.vpcSecurityGroupIds) as string[] | undefined;
  if (refs?.length !== 1) throw new Error(`${machine.name} is in ${refs?.length ?? 0} firewalls, expected 1`);
  return refs[0];
}

/**
 * Every file a planned host's #cloud-config writes, by path, decoded: what `plan --out` would put under
 * DIR/<host>/files (on AWS with the files it fetches at first boot put back in).
 */
export function hostFilesOf(plan: PlanResult, host: string): Record<string, string> {
  const machine = plan.resources.find(
    (r) => r.custom && r.name === `${host}-server` && (r.type === CLOUD_TYPES.digitalocean.machine || r.type === CLOUD_TYPES.aws.machine),
  );
  const userData = machine && unpackUserData(plan.rawInputs.get(machine.urn) ?? {});
  if (!userData) throw new Error(`no machine with user data named ${host}-server`);
  const doc = parse(wholeDocument(plan, host, userData)) as { write_files?: { path: string; content: string; encoding?: string }[] };
  return Object.fromEntries((doc.write_files ?? []).map((f) => [f.path, fileContent(f)]));
}

export const ofType = (plan: PlanResult, type: string): PlannedResource[] => plan.resources.filter((r) => r.type === type);

export function one(plan: PlanResult, type: string, name?: string): PlannedResource {
  const found = ofType(plan, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
  return found[0];
}

/** Count of cloud resources by type. */
export function typeCounts(plan: PlanResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of plan.resources.filter((x) => x.custom)) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

const ROOT = join(__dirname, "..");

/** The example stacks that use a preset (Pulumi.<preset>.yaml), as config objects keyed by preset. */
export function presetExamples(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const f of readdirSync(ROOT).filter((x) => /^Pulumi\.[a-z-]+\.yaml$/.test(x))) {
    const config = fromPulumiConfig(readStackFile(join(ROOT, f)).config);
    const app = config.app as { preset?: string };
    if (app.preset) out[app.preset] = config;
  }
  return out;
}

/**
 * The same study on another cloud (its default region). DigitalOcean refuses a power schedule (it
 * bills a stopped droplet in full), so there the study runs around the clock.
 */
export function onCloud(config: Record<string, unknown>, cloud: CloudName): Record<string, unknown> {
  const { region: _region, powerSchedule, ...rest } = config;
  if (cloud !== "digitalocean") return { ...rest, ...(powerSchedule ? { powerSchedule } : {}), cloud };
  const { officeHours: _hours, ...app } = rest.app as Record<string, unknown>;
  return { ...rest, app, cloud };
}

/**
 * The one-line error a configuration stops with, or "" when it is valid. Any other kind of error, or a
 * message over several lines, fails the test: bad input must name its key in one line.
 */
export function configErrorOf(config: Record<string, unknown>): string {
  try {
    parseStudyConfig(config);
    return "";
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain("\n");
    return message;
  }
}

/** The one-line error of a configuration that must be refused. */
export function refusal(config: Record<string, unknown>): string {
  const message = configErrorOf(config);
  if (!message) throw new Error(`no error for ${JSON.stringify(config)}`);
  return message;
}
