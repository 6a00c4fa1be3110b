// The stacks test/jobs.test.ts reads and test/host/jobs.test.ts checks with the real programs: a
// Python app (git) with two jobs and a private bucket on an S3-compatible endpoint, re-synced nightly;
// a container app with one job and a public AWS bucket.
import { studyConfig } from "../../helpers";

export const REPORT_COMMAND = `echo "report for $STUDY_LABEL in $PWD"
python3 -c 'import sys; print("args:", sys.argv[1:])' one "two words"`;
export const CONTAINER_COMMAND = `python -c 'print("it'"'"'s 100% done")' && echo "$HOME; \\$not-expanded" > /var/log/viewer/analytics.json`;

export function jobStacks(): Record<string, Record<string, unknown>> {
  return {
    python: studyConfig("digitalocean", "small", {
      jobs: [
        { name: "report", schedule: "*/15 * * * *", command: REPORT_COMMAND, timeoutMinutes: 5 },
        { name: "fails_halfway", schedule: "daily", command: "echo before\nfalse\necho after" },
      ],
      fetch: [
        {
          name: "exports",
          bucket: "study-exports",
          prefix: "latest/",
          endpoint: "https://fra1.digitaloceanspaces.com",
          region: "fra1",
          accessKeyId: "AKIAEXAMPLE",
          dest: "exports",
          every: "0 4 * * *",
        },
      ],
      fetchSecretAccessKeys: { exports: 'se"cr$et' },
    }),
    container: studyConfig("aws", "small", {
      app: {
        kind: "container",
        name: "viewer",
        image: "ghcr.io/example/viewer:1.2",
        port: 3000,
        volumes: [{ name: "data", containerPath: "/data", readOnly: true }],
      },
      jobs: [{ name: "analytics", schedule: "0 22 * * 1-5", command: CONTAINER_COMMAND }],
      fetch: [{ name: "production", bucket: "open-study-data", region: "eu-west-2", dest: "data" }],
    }),
  };
}
