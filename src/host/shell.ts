// Shell quoting for the few values that must appear inside generated scripts (app commands, paths,
// URLs). Everything else reaches scripts through files they read, never through pasted text.

/** Quote `value` as one POSIX shell word: 'it'\''s' for it's. */
export function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A bash script with the safety switches every studyhost script starts with. */
export function bashScript(purpose: string, body: string): string {
  return `#!/bin/bash
# ${purpose}
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
${body.trim()}
`;
}
