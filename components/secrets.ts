// Generated secrets: random on first `pulumi up`, stored encrypted in the stack's state, never a
// default value. @pulumi/random is Pulumi's own provider for exactly this.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * A 40-character alphanumeric secret (about 238 bits): no characters that need quoting in URLs,
 * env files or SQL. Marked secret, so plans and state show it masked.
 */
export function generatedSecret(parent: pulumi.Resource, name: string): pulumi.Output<string> {
  const password = new random.RandomPassword(name, { length: 40, special: false }, { parent });
  return pulumi.secret(password.result);
}
