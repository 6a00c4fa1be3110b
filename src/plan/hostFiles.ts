// `studyhost plan --out DIR` and the lab (`studyhost local`), which boots from the same files: each
// host's user data exactly as the VM would receive it, and every file its #cloud-config writes, under
// DIR/<host>/. Secrets in it are the plan's placeholders, never real ones. Part of the plan, which both
// the command and the lab build on.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { fileContent, unpackUserData } from "../clouds/userData";
import { mergeHostFiles } from "../clouds/hostFilesBundle";
import type { PlanResult } from "./run";

/** Types of the resources that boot a host from user data. */
const MACHINE_TYPES = new Set(["digitalocean:index/droplet:Droplet", "aws:ec2/instance:Instance"]);
const FILES_OBJECT_TYPE = "aws:s3/bucketObjectv2:BucketObjectv2";
/** The file beside user-data holding the whole document, for hosts that fetch their files. */
export const WITH_FILES = "user-data-with-files";

export interface WrittenHost {
  readonly host: string;
  readonly dir: string;
  readonly files: string[];
}

/** A host's whole #cloud-config: its user data, with the files it fetches at first boot put back in. */
export function wholeDocument(plan: PlanResult, host: string, userData: string): string {
  const object = plan.resources.find((x) => x.type === FILES_OBJECT_TYPE && x.name === `${host}-files`);
  const bundle = object ? plan.rawInputs.get(object.urn)?.contentBase64 : undefined;
  return typeof bundle === "string" ? mergeHostFiles(userData, Buffer.from(bundle, "base64")) : userData;
}

export function writeHostFiles(plan: PlanResult, outDir: string): WrittenHost[] {
  const written: WrittenHost[] = [];
  for (const r of plan.resources.filter((x) => MACHINE_TYPES.has(x.type))) {
    const userData = unpackUserData(plan.rawInputs.get(r.urn) ?? {});
    if (userData === undefined) continue;
    const host = r.name.replace(/-server$/, "");
    const dir = join(outDir, host);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "user-data"), userData);
    const files = ["user-data"];
    const whole = wholeDocument(plan, host, userData);
    if (whole !== userData) {
      writeFileSync(join(dir, WITH_FILES), whole);
      files.push(WITH_FILES);
    }
    const doc = parse(whole) as { write_files?: { path: string; content: string; encoding?: string; permissions?: string }[] };
    for (const f of doc.write_files ?? []) {
      const target = join(dir, "files", f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, fileContent(f));
      if (f.permissions) chmodSync(target, parseInt(f.permissions, 8));
      files.push(join("files", f.path));
    }
    written.push({ host, dir, files });
  }
  return written;
}
