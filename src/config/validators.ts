// Checks for the values a study's configuration holds that zod has no built-in for: DNS names, CIDR
// blocks and SSH public keys. Each returns an explanation of what is wrong, or undefined when valid,
// so the schema can put the reason into its one-line error.
import { isIP } from "node:net";

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `name` is not a fully qualified DNS name we can get a certificate for, or undefined. */
export function domainProblem(name: string): string | undefined {
  if (name !== name.toLowerCase()) return "expected a lower-case DNS name such as study.example.org";
  if (name.length > 253) return "a DNS name has at most 253 characters";
  const labels = name.split(".");
  if (labels.length < 2) return "expected a fully qualified DNS name such as study.example.org";
  if (!labels.every((l) => LABEL.test(l))) {
    return "expected a DNS name of letters, digits and inner hyphens, such as study.example.org";
  }
  if (!/^[a-z]{2,63}$/.test(labels[labels.length - 1]) && !labels[labels.length - 1].startsWith("xn--")) {
    return "the last label must be a top-level domain such as org";
  }
  return undefined;
}

/** A parsed CIDR block. A bare address is read as a single host (/32 or /128). */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly version: 4 | 6;
  /** The canonical text, always with a prefix length. */
  readonly text: string;
}

export function parseCidr(value: string): Cidr | undefined {
  const [address, prefixText, ...rest] = value.trim().split("/");
  if (rest.length > 0) return undefined;
  const version = isIP(address);
  if (version !== 4 && version !== 6) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, version, text: `${address}/${prefix}` };
}

/** True for a block that admits the whole internet (0.0.0.0/0, ::/0). */
export function isWholeInternet(cidr: Cidr): boolean {
  return cidr.prefix === 0;
}

const KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
];

/**
 * Why `key` is not one OpenSSH public key line (`type base64 [comment]`), or undefined.
 * The base64 body must decode and begin with the same key type, as OpenSSH requires.
 */
export function sshPublicKeyProblem(key: string): string | undefined {
  if (/PRIVATE KEY/.test(key)) {
    return "this is a PRIVATE key: give the public key (the .pub file) and keep the private key secret";
  }
  const expected = `expected one OpenSSH public key line starting with ${KEY_TYPES.slice(0, 3).join(", ")} or another OpenSSH key type`;
  if (/[\r\n]/.test(key.trim())) return expected;
  const [type, body] = key.trim().split(/\s+/);
  if (!KEY_TYPES.includes(type) || !body || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return expected;
  const blob = Buffer.from(body, "base64");
  if (blob.length < 4) return expected;
  const nameLength = blob.readUInt32BE(0);
  if (blob.subarray(4, 4 + nameLength).toString("latin1") !== type) {
    return `the key body does not encode a ${type} key; copy the whole line from the .pub file`;
  }
  return undefined;
}
