import * as pulumi from "@pulumi/pulumi";
import { LETS_ENCRYPT_DIRECTORY } from "../src/config/schema";
import type { TlsSettings } from "../src/host";

export { LETS_ENCRYPT_DIRECTORY };

export interface TlsArgs {
  /**
   * Every name on the study app's certificate; the first is the certificate's name. Changing the list
   * makes the host request a new certificate at its next provisioning; nothing is replaced. A staging
   * copy and each site (`studyhost:staging`, `studyhost:sites`) get a certificate of their own from the
   * same ACME server, for their own names (see src/host/web/nginx.ts), so they are not listed here.
   * @example ["study.example.org", "www.study.example.org"]
   */
  readonly domains: readonly string[];
  /**
   * The contact certbot registers with the ACME server (Let's Encrypt's account e-mail). Changing it
   * replaces nothing: it reaches only the host's user data, so a running host keeps its account until
   * it is re-provisioned or replaced.
   * @example "research-it@example.org"
   */
  readonly email: string;
  /**
   * The ACME directory URL. Tests point it at a local Pebble. Changing it replaces nothing: the host's
   * user data changes (a running host keeps its certificate until it is re-provisioned or replaced), and a directory other than Let's Encrypt's gets no CAA record, so
   * changing to one removes the CAA records (see `caaIssuers`).
   * @default "https://acme-v02.api.letsencrypt.org/directory"
   * @example "https://10.0.0.1:14000/dir" (a local Pebble)
   */
  readonly acmeDirectory?: string;
  /**
   * An extra CA bundle (PEM) that certbot trusts for the ACME server, for a private one such as
   * Pebble; installed on the host for certbot's requests. Changing it replaces nothing: it reaches only the
   * host's user data.
   * @default undefined (certbot trusts the system's CAs only)
   * @example readFileSync("pebble.minica.pem", "utf8")
   */
  readonly caBundle?: string;
}

/**
 * TLS certificates obtained and renewed on the host by certbot over HTTP-01: this component holds the
 * settings the host renders (AppServer's `tls` argument) and the CAA issuers the DNS records allow.
 * It creates no cloud resource and costs nothing (Let's Encrypt is free).
 */
export class Tls extends pulumi.ComponentResource {
  /** What the host's certbot is told. */
  readonly settings: TlsSettings;
  /** CAA `issue` values for the domains: letsencrypt.org unless another ACME server is used. */
  readonly caaIssuers: readonly string[];

  constructor(name: string, args: TlsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("studyhost:tls:Tls", name, {}, opts);
    if (args.domains.length === 0) throw new Error("Tls: domains must name at least one DNS name");
    const acmeDirectory = args.acmeDirectory ?? LETS_ENCRYPT_DIRECTORY;
    this.settings = { domains: [...args.domains], email: args.email, acmeDirectory, caBundle: args.caBundle };
    // A CAA record for an ACME server we cannot name would lock Let's Encrypt out without letting the
    // other CA in, so only Let's Encrypt gets one.
    this.caaIssuers = acmeDirectory === LETS_ENCRYPT_DIRECTORY ? ["letsencrypt.org"] : [];
    this.registerOutputs({ domains: this.settings.domains, acmeDirectory });
  }
}
