// A host's files delivered beside its user data instead of inside it (AWS). EC2 takes at most 16 KB of
// user data, even gzipped, and a host with several apps and features needs more (the ViewBovis example
// with staging: 16.9 KB gzipped). So on AWS the #cloud-config is split in two:
//  - the user data keeps everything but write_files (the admin user and keys, the data volume's bootcmd,
//    packages, the provisioning commands), plus a first command that fetches the rest;
//  - the files (every write_files entry, secrets included) go to a private S3 object that only the
//    instance's role may read. The first command fetches it with rclone (from the distribution, already
//    what studyhost uses for buckets; it reads the role's credentials from the metadata service over
//    IMDSv2), checks its sha256 against the one in the user data, and hands it to cloud-init's own
//    write_files module (`cloud-init --file F single --name write_files`), so the files are written
//    exactly as an inline write_files would write them.
// The secrets then no longer sit in the user data (which any root process, or any process on a host
// without studyhost's metadata firewall, can read) but in the object, behind the same instance role.
// Pure functions only: no Pulumi and no cloud SDK (the CLI's `plan --out` uses them too).
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { parse, stringify } from "yaml";
import { bashScript } from "../host/document/shell";
import { POSTGRES_CREATECLUSTER } from "../host/databases/postgres";

/**
 * Files a package's install scripts read, so they stay in the user data: write_files runs before
 * cloud-init installs packages, the fetch only after. (Without PostgreSQL's, the package would create
 * its cluster on the boot disk and the study's database would live there.) None holds a secret.
 */
export const READ_AT_PACKAGE_INSTALL: readonly string[] = [POSTGRES_CREATECLUSTER];

/** Where the bundle lands on the host: /run is a tmpfs, so the secrets in it never touch a disk. */
export const BUNDLE_DIR = "/run/studyhost";
/** The tag in the first runcmd entry, so tools (and `mergeHostFiles`) can recognise the fetch. */
export const FETCH_TAG = "studyhost-fetch-host-files";

/** Where a host's files objects live. */
export interface BundleLocation {
  readonly bucket: string;
  readonly region: string;
}

/**
 * An object's key names its content: a new plan writes a new object beside the old ones, so a machine
 * replaced later with the user data it was first created with (machines ignore user-data changes, and
 * Pulumi keeps ignored inputs on a replacement too) still finds the files that user data names.
 */
export const HOST_FILES_PREFIX = "host-files-";
export const hostFilesKey = (sha256: string) => `${HOST_FILES_PREFIX}${sha256}.yaml.gz`;

/**
 * Shell that writes the files of the #cloud-config in "$1" with cloud-init's own write_files module.
 * Where `--file` goes depends on cloud-init's version: up to 23.x it is an option of `cloud-init` itself
 * (Debian 12's 22.4 knows no other place); from 24.1 it is an option of each subcommand only, and
 * `cloud-init --file F single` stops with "invalid choice" (seen with 25.1.4; Ubuntu 24.04, the AMI
 * studyhost boots on AWS, ships 24.x and later). So `single --help` tells which form this one takes.
 */
export const WRITE_FILES_SHELL = `# (The help is read whole, not piped into grep -q: under pipefail an early exit of grep fails the test.)
case "$(cloud-init single --help 2>/dev/null || true)" in
  *--file*) cloud-init single --file "$1" --name write_files --frequency always ;;
  *) cloud-init --file "$1" single --name write_files --frequency always ;;
esac`;

/**
 * Fetches the files object with the instance role, checks it, writes its files with cloud-init.
 * Arguments: bucket, key, region, sha256 of the gzipped object. The instance profile can take a few
 * seconds to reach a new instance (IAM is eventually consistent), so the fetch is retried for up to
 * five minutes; a fetch that never succeeds stops the first boot here, loudly, with the last error.
 */
const FETCH_SCRIPT = bashScript(
  "fetches this host's files from its S3 object and writes them with cloud-init",
  `
bucket="$1"; key="$2"; region="$3"; sha256="$4"
log() { echo "${FETCH_TAG}: $*" >&2; }
install -d -m 0700 ${BUNDLE_DIR}
packed=${BUNDLE_DIR}/host-files.yaml.gz
# rclone's S3 backend, configured from the environment only: the AWS provider, credentials from the
# instance's role (env_auth reads the metadata service when no keys are in the environment).
export RCLONE_S3_PROVIDER=AWS RCLONE_S3_ENV_AUTH=true RCLONE_S3_REGION="$region"
attempt=1
until rclone copyto ":s3:$bucket/$key" "$packed" --retries 1 --low-level-retries 3; do
  if [ "$attempt" -ge 30 ]; then log "could not fetch s3://$bucket/$key after $attempt attempts"; exit 1; fi
  log "fetching s3://$bucket/$key failed (attempt $attempt); retrying in 10 s"
  attempt=$((attempt + 1))
  sleep 10
done
echo "$sha256  $packed" | sha256sum --check --quiet || { log "s3://$bucket/$key is not the object this host was planned with"; exit 1; }
gunzip --force "$packed"
write_with_cloud_init() {
${WRITE_FILES_SHELL}
}
write_with_cloud_init ${BUNDLE_DIR}/host-files.yaml
rm -f ${BUNDLE_DIR}/host-files.yaml
log "wrote the files of s3://$bucket/$key"
`,
);

type WriteFile = { path: string; [key: string]: unknown };
type CloudConfigDoc = { write_files?: WriteFile[]; packages?: string[]; runcmd?: unknown[][]; [key: string]: unknown };

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** The split: the user data to boot with and the gzipped files object it fetches. */
export interface SplitHostDocument {
  readonly userData: string;
  readonly bundle: Buffer;
  readonly sha256: string;
  /** The object's key in the bucket (hostFilesKey). */
  readonly key: string;
}

/** Splits a full #cloud-config into user data that fetches its files and the files' object. */
export function splitHostFiles(text: string, at: BundleLocation): SplitHostDocument {
  const doc = parse(text) as CloudConfigDoc;
  const { write_files: all = [], ...rest } = doc;
  const early = all.filter((f) => READ_AT_PACKAGE_INSTALL.includes(f.path));
  const fetched = all.filter((f) => !READ_AT_PACKAGE_INSTALL.includes(f.path));
  // gzip from Node's zlib writes no timestamp: the same files always give the same bytes and checksum.
  const bundle = gzipSync(`#cloud-config\n${stringify({ write_files: fetched }, { lineWidth: 0 })}`, { level: 9 });
  const digest = sha256(bundle);
  const key = hostFilesKey(digest);
  const packages = rest.packages ?? [];
  const { runcmd: _runcmd, ...beforeRuncmd } = rest;
  const userData: CloudConfigDoc = {
    ...beforeRuncmd,
    packages: packages.includes("rclone") ? packages : [...packages, "rclone"],
    ...(early.length ? { write_files: early } : {}),
    runcmd: [["bash", "-c", FETCH_SCRIPT, FETCH_TAG, at.bucket, key, at.region, digest], ...(rest.runcmd ?? [])],
  };
  return { userData: `#cloud-config\n${stringify(userData, { lineWidth: 0 })}`, bundle, sha256: digest, key };
}

/**
 * The document a host ends up applying: its user data with the fetch replaced by the fetched files.
 * For `plan --out` (every file under files/) and for booting locally, where no S3 is reachable.
 */
export function mergeHostFiles(userData: string, bundle: Buffer): string {
  const doc = parse(userData) as CloudConfigDoc;
  const files = (parse(gunzipSync(bundle).toString("utf8")) as CloudConfigDoc).write_files ?? [];
  const { runcmd = [], write_files: early = [], ...rest } = doc;
  const merged = { ...rest, write_files: [...early, ...files], runcmd: runcmd.filter((c) => !(Array.isArray(c) && c[3] === FETCH_TAG)) };
  return `#cloud-config\n${stringify(merged, { lineWidth: 0 })}`;
}

/** The fetch command's script and arguments, if this user data fetches its files (for tests and tools). */
export function fetchCommandOf(userData: string): { script: string; args: string[] } | undefined {
  const doc = parse(userData) as CloudConfigDoc;
  const cmd = (doc.runcmd ?? []).find((c) => Array.isArray(c) && c[3] === FETCH_TAG) as string[] | undefined;
  return cmd ? { script: cmd[2], args: cmd.slice(4) } : undefined;
}
