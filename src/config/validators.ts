// Checks for the values a study's configuration holds that zod has no built-in for: DNS names, CIDR
// blocks and SSH public keys. Each returns an explanation of what is wrong, or undefined when valid,
// so the schema can put the reason into its one-line error.
import { isIP } from "node:net";
import { z } from "zod";

/** A name that becomes a user, a folder and part of unit names: lower-case letters, digits and _. */
export const slug = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,30}$/, "expected a lower-case name of letters, digits and _ (at most 31), starting with a letter")
  .describe("a lower-case name such as study");

/**
 * A whole number from `min` to `max`, with one message for every way a value can miss (text, a
 * fraction, out of range): zod's own ("Too small: expected number to be >=1") names neither bound.
 * @param unit what the number counts, for the message, e.g. " of days"
 * @param example a typical value, for the message
 */
export function wholeNumber(min: number, max: number, unit = "", example?: number): z.ZodNumber {
  const error = `expected a whole number${unit} from ${min} to ${max}${example === undefined ? "" : `, such as ${example}`}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/**
 * A list whose refusal of a single value says so: in YAML, `sshKeys: ssh-ed25519 ...` (one key on the
 * key's line) is a string, not a list of one, and zod would only say "expected array, received string".
 * @param what the entries, plural, e.g. "OpenSSH public keys"
 * @param example one entry, for the message
 */
export function listOf<T extends z.ZodType>(element: T, what: string, example: string) {
  return z.array(element, { error: `expected a list of ${what}, even of one: [${example}]` });
}

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

/** The address as a number (IPv4: 32 bits, IPv6: 128 bits). */
function addressBits(address: string, version: 4 | 6): bigint {
  if (version === 4) return address.split(".").reduce((n, part) => (n << 8n) | BigInt(part), 0n);
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = addressBits(v4[1], 4);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const groups = (s?: string) => (s ? s.split(":") : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array(missing).fill("0"), ...groups(tail)];
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The block's network address when `cidr` has host bits set (203.0.113.5/24), else undefined. */
export function hostBitsProblem(cidr: Cidr): string | undefined {
  const width = cidr.version === 4 ? 32n : 128n;
  const hostBits = width - BigInt(cidr.prefix);
  const bits = addressBits(cidr.address, cidr.version);
  if ((bits & ((1n << hostBits) - 1n)) === 0n) return undefined;
  const network = (bits >> hostBits) << hostBits;
  const text =
    cidr.version === 4
      ? [24n, 16n, 8n, 0n].map((s) => String((network >> s) & 0xffn)).join(".")
      : [...Array(8).keys()]
          .map((i) => ((network >> BigInt(112 - 16 * i)) & 0xffffn).toString(16))
          .join(":")
          .replace(/(^|:)0(:0)+(:|$)/, "::");
  return `${cidr.text} has host bits set; did you mean ${text}/${cidr.prefix}?`;
}

/**
 * True for a block that admits the whole internet or a large share of it: IPv4 wider than /8
 * (0.0.0.0/0, or 0.0.0.0/1 + 128.0.0.0/1), IPv6 wider than /16. No institution's network is that big.
 */
export function isWholeInternet(cidr: Cidr): boolean {
  return cidr.prefix < (cidr.version === 4 ? 8 : 16);
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
