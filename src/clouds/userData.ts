// User data within each cloud's limit. DigitalOcean takes up to 64 KiB of text: a host over it gets its
// files gzipped inside the document. AWS takes only 16 KB, which a full study host exceeds even
// gzipped: there the files travel in S3 (./hostFilesBundle.ts) and the rest goes gzipped and
// base64-encoded (cloud-init recognises gzip).
import { ConfigError } from "../config/errors";
import { gunzipSync, gzipSync } from "node:zlib";
import { parse, stringify } from "yaml";
import type { CloudName } from "../tiers";

export const USER_DATA_LIMIT_BYTES: Record<CloudName, number> = { digitalocean: 64 * 1024, aws: 16 * 1024 };

/**
 * The same #cloud-config with every write_files entry gzipped and base64-encoded (cloud-init's
 * `encoding: gz+b64`): for a DigitalOcean host whose plain document is over the limit, such as one
 * with several sites and a staging copy. A document within the limit is sent as it is.
 */
export function compressFiles(text: string): string {
  const doc = parse(text) as { write_files?: { content: string; encoding?: string }[] };
  for (const f of doc.write_files ?? []) {
    if (f.encoding) continue;
    f.content = gzipSync(f.content, { level: 9 }).toString("base64");
    f.encoding = "gz+b64";
  }
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}

/** A write_files entry's content as the file will hold it (decoding what `compressFiles` encoded). */
export function fileContent(f: { content: string; encoding?: string }): string {
  if (f.encoding === "gz+b64" || f.encoding === "gzip+base64" || f.encoding === "gz+base64")
    return gunzipSync(Buffer.from(f.content, "base64")).toString("utf8");
  if (f.encoding === "b64" || f.encoding === "base64") return Buffer.from(f.content, "base64").toString("utf8");
  return f.content;
}

/** The bytes a cloud counts against its limit, and the value to send it. */
export function packUserData(cloud: CloudName, plain: string, host: string): string {
  const text = cloud === "digitalocean" && Buffer.byteLength(plain, "utf8") > USER_DATA_LIMIT_BYTES[cloud] ? compressFiles(plain) : plain;
  // gzip's header carries no timestamp from Node's zlib, so the same text always packs the same.
  const packed = cloud === "aws" ? gzipSync(text, { level: 9 }) : Buffer.from(text, "utf8");
  if (packed.length > USER_DATA_LIMIT_BYTES[cloud]) {
    // A ConfigError: the message is the whole story (Pulumi prefixes it with the property's name).
    throw new ConfigError(
      "studyhost:app",
      `${host}: its #cloud-config is ${packed.length} bytes${cloud === "aws" ? " gzipped" : ""}, over ${cloud}'s user-data limit of ${USER_DATA_LIMIT_BYTES[cloud]} bytes; ` +
        `put fewer apps or features on this host (sites, staging, analytics, accessories)`,
    );
  }
  return cloud === "aws" ? packed.toString("base64") : text;
}

/** The #cloud-config text a machine resource boots with, from its inputs (either form). */
export function unpackUserData(inputs: Record<string, unknown>): string | undefined {
  if (typeof inputs.userData === "string") return inputs.userData;
  if (typeof inputs.userDataBase64 === "string") return gunzipSync(Buffer.from(inputs.userDataBase64, "base64")).toString("utf8");
  return undefined;
}
