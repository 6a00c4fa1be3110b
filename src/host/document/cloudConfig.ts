// The #cloud-config document that turns a fresh VM into its role, rendered from plain values with a
// YAML library (the `yaml` package: maintained, spec-complete, and it quotes what needs quoting, which
// string pasting gets wrong the first time a password holds a colon).
import { stringify } from "yaml";
import { dataVolumeBootCommand } from "../system/volume";
import type { HostFile } from "./part";

/** Everything a host's first boot does, before it is turned into #cloud-config. */
export interface HostDocument {
  readonly hostname: string;
  readonly fqdn?: string;
  readonly adminUser: string;
  readonly sshKeys: readonly string[];
  readonly packages: readonly string[];
  readonly files: readonly HostFile[];
  /** Where the data volume appears and where it is mounted. */
  readonly dataVolume: { readonly device: string; readonly mountPoint: string };
  /** Commands run once, in order, at the end of the first boot (argv lists: no shell unless asked). */
  readonly commands: readonly (readonly string[])[];
}

export function renderCloudConfig(doc: HostDocument): string {
  const config = {
    hostname: doc.hostname,
    // Some images do not map their own hostname: sudo then warns "unable to resolve host".
    manage_etc_hosts: true,
    ...(doc.fqdn ? { fqdn: doc.fqdn } : {}),
    locale: "C.UTF-8",
    timezone: "Etc/UTC",
    ssh_pwauth: false,
    disable_root: true,
    users: [
      {
        name: doc.adminUser,
        groups: ["sudo"],
        shell: "/bin/bash",
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
        ssh_authorized_keys: [...doc.sshKeys],
      },
    ],
    // bootcmd runs before packages: the data volume is mounted before anything writes data.
    bootcmd: [dataVolumeBootCommand(doc.dataVolume.device, doc.dataVolume.mountPoint)],
    package_update: true,
    package_upgrade: true,
    packages: [...doc.packages],
    write_files: doc.files.map((f) => ({
      path: f.path,
      content: f.content,
      permissions: f.permissions,
      owner: f.owner ?? "root:root",
    })),
    runcmd: doc.commands.map((c) => [...c]),
  };
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}
