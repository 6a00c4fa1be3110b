// How a study's configuration is read, for the stacks and for everything that runs them (the Pulumi
// program, `studyhost plan`, `studyhost local`): its preset (`studyhost:app.preset`) expanded into the
// app and keys its guide asks for, then the whole checked by the one schema of src/config. The two
// steps meet here, above both layers: src/config must not know the presets, which are written in its
// terms (and camcops's in src/host's paths).
import * as pulumi from "@pulumi/pulumi";
import { fromPulumiConfig, parseExpandedConfig, StudyConfig } from "../src/config";
import { expandPresets } from "../src/presets";

/**
 * Validate a study's configuration (keys without the `studyhost:` prefix; the app written out or a
 * preset) and fill in defaults: the same checks and one-line errors as `pulumi up`. Throws ConfigError.
 * @example parseStudyConfig({ cloud: "digitalocean", tier: "small", domain: "study.example.org", ... })
 */
export function parseStudyConfig(given: unknown): StudyConfig {
  return parseExpandedConfig(expandPresets(given));
}

/** Read every `studyhost:` key from the running Pulumi program's config and parse it. Throws ConfigError. */
export function readStudyConfig(): StudyConfig {
  return parseStudyConfig(fromPulumiConfig(pulumi.runtime.allConfig()));
}
