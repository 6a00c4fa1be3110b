// Shell quoting for the few values that must appear inside generated scripts (app commands, paths,
// URLs). Everything else reaches scripts through files they read, never through pasted text.
import { fillAsset } from "./template";

/** Quote `value` as one POSIX shell word: 'it'\''s' for it's. */
export function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Shell that sets \`private\` to this host's IPv4 address inside the block in "$cidr" (the cloud assigns
 * it; a database host finds it at boot to listen on it), or stops saying there is none.
 */
export const PRIVATE_ADDRESS_SH = `private=$(ip -4 -o addr show | awk '{print $4}' | cut -d/ -f1 | python3 -c 'import ipaddress, sys
net = ipaddress.ip_network(sys.argv[1])
print(next((a for a in sys.stdin.read().split() if ipaddress.ip_address(a) in net), ""))' "$cidr")
[ -n "$private" ] || { echo "no address in $cidr on this host" >&2; exit 1; }`;

/** A bash script with the safety switches every studyhost script starts with. */
export function bashScript(purpose: string, body: string): string {
  return fillAsset(__dirname, "bash-script.sh", { PURPOSE: purpose, BODY: body.trim() });
}
