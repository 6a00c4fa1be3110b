// Resource options that keep participants' data safe, in one place so every cloud applies the same.
import type * as pulumi from "@pulumi/pulumi";

/**
 * For anything that holds data (volumes, database hosts): `protect` makes `pulumi destroy` and any
 * replacement fail until an operator unprotects it; `retainOnDelete` keeps the cloud resource even
 * when Pulumi forgets it. Neither is a backup: the backup timer is.
 */
export function holdsData(parent: pulumi.Resource): pulumi.CustomResourceOptions {
  return { parent, protect: true, retainOnDelete: true };
}

/**
 * Properties the cloud cannot change in place on a running machine. Changing them would replace the
 * VM (DigitalOcean) or stop and start it without re-running them (AWS); app updates reach hosts
 * through re-provisioning instead. studyhost puts SSH keys in user data, not in `sshKeys` / `keyName`;
 * those are ignored too so that a user's transform setting them cannot replace a machine either.
 */
export const MACHINE_IGNORE_CHANGES = {
  digitalocean: ["userData", "sshKeys"],
  aws: ["userData", "userDataBase64", "keyName"],
} as const;

/** Attachments must let go of the old machine before the new one claims the volume or address. */
export function attachment(parent: pulumi.Resource): pulumi.CustomResourceOptions {
  return { parent, deleteBeforeReplace: true };
}
