// User data within each cloud's limit. DigitalOcean takes up to 64 KiB of text; AWS only 16 KB, which
// a full study host exceeds, so AWS gets it gzipped and base64-encoded (cloud-init recognises gzip).
import { gunzipSync, gzipSync } from "node:zlib";
import type { CloudName } from "../tiers";

export const USER_DATA_LIMIT_BYTES: Record<CloudName, number> = { digitalocean: 64 * 1024, aws: 16 * 1024 };

/** The bytes a cloud counts against its limit, and the value to send it. */
export function packUserData(cloud: CloudName, text: string, host: string): string {
  // gzip's header carries no timestamp from Node's zlib, so the same text always packs the same.
  const packed = cloud === "aws" ? gzipSync(text, { level: 9 }) : Buffer.from(text, "utf8");
  if (packed.length > USER_DATA_LIMIT_BYTES[cloud]) {
    throw new Error(
      `${host}: its user data is ${packed.length} bytes${cloud === "aws" ? " gzipped" : ""}, over ${cloud}'s limit of ${USER_DATA_LIMIT_BYTES[cloud]}; ` +
        "fewer or smaller files must go through user data (studyhost renders them; please report this)",
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
