// curl as the client: it is what an operator would use to check a host, and it speaks TLS 1.0 to 1.3
// and HTTP/2 with the system's OpenSSL, so what it sees is what a browser-grade client sees.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./processes";

export interface Reply {
  /** curl's exit code: 0, or why there was no HTTP answer (35 handshake failed, 52 empty reply). */
  readonly exit: number;
  /** 0 when there was no HTTP answer. */
  readonly status: number;
  /** "1.1" or "2". */
  readonly httpVersion: string;
  /** Lower-cased header names; the last value of each. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** curl's messages, for assertion output. */
  readonly stderr: string;
}

/** One request (no redirects followed). */
export function curl(args: readonly string[]): Reply {
  const dir = mkdtempSync(join(tmpdir(), "studyhost-curl-"));
  try {
    const r = run("curl", ["-sS", "--max-time", "10", "-D", join(dir, "headers"), "-o", join(dir, "body"), "-w", "%{http_code} %{http_version}", ...args]);
    const [code, version] = r.stdout.trim().split(" ");
    const read = (f: string) => {
      try {
        return readFileSync(join(dir, f), "utf8");
      } catch {
        return "";
      }
    };
    const headers: Record<string, string> = {};
    for (const line of read("headers").split(/\r?\n/).slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { exit: r.status ?? -1, status: Number(code) || 0, httpVersion: version ?? "", headers, body: read("body"), stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** For expect(...).toEqual-style messages: what came back, compactly. */
export const show = (r: Reply): string =>
  `exit ${r.exit}, HTTP/${r.httpVersion} ${r.status}\n${JSON.stringify(r.headers, null, 1)}\n${r.body.slice(0, 400)}\n${r.stderr}`;
