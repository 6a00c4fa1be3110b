// Environment files, as systemd's EnvironmentFile= and bash's `source` both read them.

/** NAME="value" lines, with backslashes, quotes, dollars and newlines escaped. */
export function envFile(vars: Record<string, string>): string {
  const quote = (v: string) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$/g, "\\$").replace(/`/g, "\\`").replace(/\n/g, "\\n")}"`;
  return (
    Object.entries(vars)
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join("\n") + "\n"
  );
}
