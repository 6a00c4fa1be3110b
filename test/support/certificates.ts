// A throwaway self-signed certificate where an nginx site under test expects its Let's Encrypt one:
// `nginx -t` opens the files a site names, so a configuration check needs them to exist.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/** Writes DIR/fullchain.pem and DIR/privkey.pem (RSA 2048, one day, CN as given), making DIR. */
export function writeSelfSigned(dir: string, commonName = "studyhost-test"): void {
  mkdirSync(dir, { recursive: true });
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${commonName}`, "-days", "1"];
  execFileSync("openssl", [...args, "-keyout", join(dir, "privkey.pem"), "-out", join(dir, "fullchain.pem")], { stdio: "ignore" });
}
