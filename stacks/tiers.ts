// The three study stacks as functions a team can call from its own Pulumi program:
//   smallStudy("study", { cloud: "digitalocean", domain: "study.example.org", ... })
// Each validates its input exactly as `pulumi up` does (one ConfigError naming the key) and fixes the tier.
import type * as pulumi from "@pulumi/pulumi";
import type { StudyConfigInput } from "../src/config";
import { parseStudyConfig } from "./config";
import type { PresetName } from "../src/presets";
import { Study } from "./study";

/**
 * One of the five guides' systems with its options, as `studyhost:app: { preset: bofs, ... }` is in a
 * stack file (README, "Presets"): the options are checked by the preset when the study is parsed.
 * @example { preset: "bofs", experiment: { git: "https://git.example.org/lab/my-experiment.git", ref: "v1.0.0" } }
 */
export type PresetApp = { preset: PresetName } & Record<string, unknown>;

/** Everything a study's configuration holds except the tier, which the function fixes; the app written out or a preset. */
export type StudyInput = Omit<StudyConfigInput, "tier" | "app"> & { app: StudyConfigInput["app"] | PresetApp };

/** Fewer than 25 concurrent users: one host (1 vCPU, 1 GB), SQLite or PostgreSQL on it. $7/month on DigitalOcean. */
export function smallStudy(name: string, input: StudyInput, opts?: pulumi.ComponentResourceOptions): Study {
  return new Study(name, parseStudyConfig({ ...input, tier: "small" }), opts);
}

/** 50+ concurrent users: one host (2 vCPU, 4 GB, 50 GB), PostgreSQL on it. $29/month on DigitalOcean. */
export function largeStudy(name: string, input: StudyInput, opts?: pulumi.ComponentResourceOptions): Study {
  return new Study(name, parseStudyConfig({ ...input, tier: "large" }), opts);
}

/** An app host and a PostgreSQL host reachable only from it over the private network. $43/month on DigitalOcean. */
export function twoServerStudy(name: string, input: StudyInput, opts?: pulumi.ComponentResourceOptions): Study {
  return new Study(name, parseStudyConfig({ ...input, tier: "two-server" }), opts);
}
