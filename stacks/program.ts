// The Pulumi program: read `studyhost:*` config, build the Study, return the stack outputs.
// Kept apart from stacks/index.ts so the offline plan and the tests can run it more than once.
import { readStudyConfig } from "./config";
import { Study } from "./study";

export function studyProgram() {
  // Validation happens before the first resource: a bad key stops here with one line.
  const config = readStudyConfig();
  const study = new Study("study", config);
  return {
    url: study.url,
    // With a staging copy or sites: every app's URL by name (absent otherwise, so plans stay as they were).
    ...(Object.keys(study.urls).length > 1 ? { urls: study.urls } : {}),
    tier: config.tier,
    cloud: config.cloud,
    region: config.region,
    publicIpv4: study.app.publicIpv4,
    // Only where the cloud gives IPv6 (Pulumi drops undefined outputs with a warning).
    ...(study.app.ipv6 ? { publicIpv6: study.app.ipv6 } : {}),
    sshCommand: study.sshCommand,
    database: config.database.engine,
    ...(study.database ? { databaseHost: study.database.host } : {}),
    dnsRecords: study.dns.records,
    monthlyCostUsd: study.cost.monthlyUsd,
    cost: study.cost,
  };
}
