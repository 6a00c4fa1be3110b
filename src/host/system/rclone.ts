// rclone reaches S3-compatible buckets (the offsite backup copy, boot-time fetches) through a remote
// defined entirely by RCLONE_CONFIG_<REMOTE>_* environment variables, kept in root-only env files: no
// rclone.conf to write, and the secret never appears on a command line.

/** A bucket's address and, for a private one, its credentials. */
export interface S3Access {
  /** An S3-compatible endpoint; AWS S3 when undefined. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Both or neither: without them rclone reads the bucket anonymously (a public bucket). */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

/** The environment that defines the rclone remote `remote` (upper case, e.g. OFFSITE) for `access`. */
export function rcloneS3Remote(remote: string, access: S3Access): Record<string, string> {
  const prefix = `RCLONE_CONFIG_${remote}_`;
  return {
    [`${prefix}TYPE`]: "s3",
    [`${prefix}PROVIDER`]: access.endpoint ? "Other" : "AWS",
    // Never credentials from the machine's environment or instance role: only what is configured.
    [`${prefix}ENV_AUTH`]: "false",
    ...(access.endpoint ? { [`${prefix}ENDPOINT`]: access.endpoint } : {}),
    ...(access.region ? { [`${prefix}REGION`]: access.region } : {}),
    ...(access.accessKeyId ? { [`${prefix}ACCESS_KEY_ID`]: access.accessKeyId } : {}),
    ...(access.secretAccessKey ? { [`${prefix}SECRET_ACCESS_KEY`]: access.secretAccessKey } : {}),
  };
}
