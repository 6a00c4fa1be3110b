// A host is assembled from parts (base hardening, firewall, PostgreSQL, app, nginx and TLS, backups):
// each part names the packages it needs, the files it writes and the provisioning steps it runs.

/** One file the host needs, as cloud-init's write_files writes it. */
export interface HostFile {
  readonly path: string;
  readonly content: string;
  /** Octal mode, e.g. "0600". */
  readonly permissions: string;
  readonly owner?: string;
}

/** A named piece of the provisioning script (bash, run as root, in order, under set -euo pipefail). */
export interface ProvisionStep {
  readonly name: string;
  readonly script: string;
  /**
   * Steps that must have succeeded, earlier in the same run, for this one to run; if one failed, this
   * step is skipped and reported as failed. Production's app step needs staging's health check.
   * @default [] (runs whatever failed before it)
   */
  readonly needs?: readonly string[];
}

export interface HostPart {
  readonly packages?: readonly string[];
  readonly files?: readonly HostFile[];
  readonly steps?: readonly ProvisionStep[];
}

/** Where studyhost keeps its own scripts and settings on every host. */
export const PATHS = {
  /** The data volume: PostgreSQL, app state, uploads, backups. */
  data: "/var/lib/studyhost",
  backups: "/var/lib/studyhost/backups",
  etc: "/etc/studyhost",
  sbin: "/usr/local/sbin",
  lib: "/usr/local/lib/studyhost",
  units: "/etc/systemd/system",
  webroot: "/var/www/letsencrypt",
  holding: "/var/www/studyhost",
  letsencrypt: "/etc/letsencrypt",
} as const;

export function mergeParts(parts: readonly HostPart[]): Required<HostPart> {
  const packages = [...new Set(parts.flatMap((p) => p.packages ?? []))];
  const files = parts.flatMap((p) => p.files ?? []);
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new Error(`two parts write ${f.path}`);
    seen.add(f.path);
  }
  return { packages, files, steps: parts.flatMap((p) => p.steps ?? []) };
}

/** An executable script file. */
export const script = (path: string, content: string): HostFile => ({ path, content, permissions: "0755" });
/** A root-only file (secrets). */
export const secretFile = (path: string, content: string): HostFile => ({ path, content, permissions: "0600" });
/** A world-readable configuration file. */
export const configFile = (path: string, content: string): HostFile => ({ path, content, permissions: "0644" });
