// Loads a cloud's module only when a stack uses that cloud: a DigitalOcean stack never loads
// @pulumi/aws (84 MB, 2,700 declaration files), and a DigitalOcean-only user need not install it.
import type { CloudName } from "../tiers";
import type { CloudProvider } from "./types";

export * from "./types";

const loaded = new Map<CloudName, CloudProvider>();

export function loadCloud(name: CloudName): CloudProvider {
  let provider = loaded.get(name);
  if (!provider) {
    const modulePath = { digitalocean: "./digitalocean", aws: "./aws" }[name];
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      provider = (require(modulePath) as { provider: CloudProvider }).provider;
    } catch (err: any) {
      if (err?.code === "MODULE_NOT_FOUND" && /@pulumi\//.test(String(err.message))) {
        const pkg = name === "aws" ? "@pulumi/aws" : "@pulumi/digitalocean";
        throw new Error(`studyhost:cloud is ${name}, which needs the ${pkg} package: run npm install ${pkg}`, { cause: err });
      }
      throw err;
    }
    loaded.set(name, provider);
  }
  return provider;
}
