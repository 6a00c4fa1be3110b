// The host firewall (nftables), the same rules as the cloud firewall in front of it, plus one the
// cloud cannot express: only root may reach the metadata service, whose user data holds secrets.
import { parseCidr } from "../../config/validators";
import { configFile, HostPart } from "../document/part";
import { fillAsset } from "../document/template";

export interface HostFirewallInput {
  /** Open 80 and 443 to everyone (web hosts). */
  readonly web: boolean;
  /** Networks allowed to use SSH. */
  readonly adminCidrs: readonly string[];
  /** Networks allowed to reach PostgreSQL on 5432 (the private network, on database hosts). */
  readonly postgresClients: readonly string[];
  /**
   * Networks allowed to reach MariaDB on 3306 (the private network, on a database host that runs it).
   * @default [] (none: 3306 stays closed)
   */
  readonly mariadbClients?: readonly string[];
  /**
   * The bridge of studyhost's private Docker network (accessories, container apps with `network:
   * private`): traffic its containers send is forwarded, not output, so the output chain's
   * metadata rule does not see it; a forward chain refuses it the metadata service. Opens nothing.
   * @default undefined (no such network; the rendered file is unchanged)
   */
  readonly containerBridge?: string;
}

const METADATA_V4 = "169.254.169.254";

function addressSet(name: string, type: string, cidrs: readonly string[]): string {
  return fillAsset(__dirname, "address-set.nft", { NAME: name, TYPE: type, ELEMENTS: cidrs.join(", ") });
}

/** Containers on studyhost's bridge never reach the metadata service (whatever their user). */
const forwardChain = (bridge: string) => fillAsset(__dirname, "forward-chain.nft", { BRIDGE: bridge, METADATA: METADATA_V4 });

export function renderNftables(input: HostFirewallInput): string {
  const v4 = (list: readonly string[]) => list.filter((c) => parseCidr(c)?.version === 4);
  const v6 = (list: readonly string[]) => list.filter((c) => parseCidr(c)?.version === 6);
  const sets: string[] = [];
  const rules: string[] = [];
  const allow = (name: string, port: number, cidrs: readonly string[]) => {
    if (v4(cidrs).length) {
      sets.push(addressSet(`${name}_v4`, "ipv4_addr", v4(cidrs)));
      rules.push(`    ip saddr @${name}_v4 tcp dport ${port} accept`);
    }
    if (v6(cidrs).length) {
      sets.push(addressSet(`${name}_v6`, "ipv6_addr", v6(cidrs)));
      rules.push(`    ip6 saddr @${name}_v6 tcp dport ${port} accept`);
    }
  };
  if (input.web) rules.push("    tcp dport { 80, 443 } accept");
  allow("admin", 22, input.adminCidrs);
  allow("postgres_clients", 5432, input.postgresClients);
  allow("mariadb_clients", 3306, input.mariadbClients ?? []);
  // Our own table only (no `flush ruleset`): reloading it leaves Docker's and fail2ban's tables alone.
  // SETS and FORWARD are whole lines, each ending in a newline, or nothing: they start the line they
  // come before. The forward chain, when there is one, has a blank line before it, as the others do.
  return fillAsset(__dirname, "nftables.nft", {
    SETS: sets.join(""),
    RULES: rules.join("\n"),
    METADATA: METADATA_V4,
    FORWARD: input.containerBridge ? `\n${forwardChain(input.containerBridge)}` : "",
  });
}

export function hostFirewallPart(input: HostFirewallInput): HostPart {
  return {
    packages: ["nftables"],
    files: [configFile("/etc/nftables.conf", renderNftables(input))],
    // Reload, never restart: Debian's nftables.service flushes the whole ruleset when it stops, which
    // would drop Docker's and fail2ban's tables too. Our file only replaces its own table.
    steps: [
      {
        name: "host-firewall",
        script:
          "nft -c -f /etc/nftables.conf\nsystemctl enable nftables.service\nif systemctl is-active --quiet nftables.service; then systemctl reload nftables.service; else systemctl start nftables.service; fi",
      },
    ],
  };
}
