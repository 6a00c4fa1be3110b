// studyhost's demo study (demo-app/wsgi.py): what `studyhost local` serves when a stack's python app
// comes from an example placeholder (a repository under example.org that does not exist), so that the
// example stacks boot a working study server with nothing of the user's own and no network but
// Debian's mirror. `--app-source` still replaces it with the user's own app.
import { spawnSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";

/** The demo's files: src/local/demo-app in a checkout, dist/src/local/demo-app once built. */
export const DEMO_APP_DIR = join(__dirname, "demo-app");

/** The python app key as far as the demo touches it. */
export interface PythonAppKey {
  kind?: string;
  source?: { git?: string; ref?: string; pip?: string };
  packages?: string[];
  aptPackages?: string[];
  systemSitePackages?: boolean;
  migrate?: string[];
  [key: string]: unknown;
}

/** Names reserved for examples and documentation (RFC 2606, RFC 6761): never a real repository. */
const PLACEHOLDER_HOST = /(^|\.)(example\.(org|com|net)|invalid|test|example|localhost)$/;

/** Is this app's source an example placeholder? Only a python app from git, whose host is reserved for examples. */
export function hasPlaceholderSource(app: PythonAppKey): boolean {
  if (app.kind !== "python" || !app.source?.git) return false;
  try {
    return PLACEHOLDER_HOST.test(new URL(app.source.git).hostname);
  } catch {
    return false;
  }
}

/**
 * The app key with the demo in place of the stack's app: its source (served from GITURL, at the
 * stack's ref), and its own needs instead of the stack's pip packages and migrations (gunicorn and
 * psycopg2 from Debian, through the venv's view of the system's packages: nothing from PyPI). The
 * stack's start command stays, but for how gunicorn is found: Debian's gunicorn puts no script in the
 * venv, so `gunicorn ARGS` becomes `python3 -m gunicorn ARGS` (the venv's python, the same gunicorn).
 * Port, health path, static files and the rest stay as the stack has them.
 */
export function withDemoApp(app: PythonAppKey, gitUrl: string): PythonAppKey {
  const apt = new Set([...(app.aptPackages ?? []), "gunicorn", "python3-psycopg2"]);
  const start = typeof app.start === "string" ? app.start.replace(/^gunicorn(?=\s)/, "python3 -m gunicorn") : app.start;
  return { ...app, source: { git: gitUrl, ref: app.source?.ref ?? "HEAD" }, packages: [], migrate: [], aptPackages: [...apt], systemSitePackages: true, start };
}

/** The demo's files committed as a git repository in DEST, tagged REF (a stack's tag), for gitServe. */
export function demoRepo(dest: string, ref: string | undefined): string {
  rmSync(dest, { recursive: true, force: true });
  cpSync(DEMO_APP_DIR, dest, { recursive: true, verbatimSymlinks: true });
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "studyhost",
    GIT_AUTHOR_EMAIL: "demo@studyhost.invalid",
    GIT_COMMITTER_NAME: "studyhost",
    GIT_COMMITTER_EMAIL: "demo@studyhost.invalid",
  };
  const steps = [["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "studyhost demo study"], ...(ref && ref !== "HEAD" ? [["tag", ref]] : [])];
  for (const args of steps) {
    const r = spawnSync("git", args, { cwd: dest, encoding: "utf8", env });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")} in ${dest}: ${r.stderr.trim()}`);
  }
  return dest;
}
