// The pure parts of `studyhost local`: reading a host's progress from its logs, and choosing when the
// demo study stands in for a stack's app (src/local/progress.ts, src/local/demoApp.ts). The demo app
// itself runs under Python in test/host/demo-app.test.ts.
import { hasPlaceholderSource, withDemoApp } from "../src/local/demoApp";
import { cloudInitStages, provisionEvents, stepOutput } from "../src/local/progress";

const LOG = `== studyhost-provision started 2026-12-07T19:00:00Z
== step base
base line 1
== step postgres
creating the cluster
psql: error: connection refused
== step postgres FAILED at line 12: psql -c 'SELECT 1'
== step app
== step app-staging SKIPPED: it needs app, which failed
== studyhost-provision FAILED steps: postgres app-staging
`;

describe("progress read from the provisioning log", () => {
  test("steps, a failure with its line and command, a skipped step, the end", () => {
    expect(provisionEvents(LOG)).toEqual([
      { kind: "step", step: "base" },
      { kind: "step", step: "postgres" },
      { kind: "failed", step: "postgres", line: "12", command: "psql -c 'SELECT 1'" },
      { kind: "step", step: "app" },
      { kind: "skipped", step: "app-staging", reason: "it needs app, which failed" },
      { kind: "failedSteps", steps: "postgres app-staging" },
    ]);
    expect(provisionEvents("== step base\n== studyhost-provision finished 2026-12-07T19:01:00Z\n").map((e) => e.kind)).toEqual(["step", "finished"]);
  });

  test("a failed step's own output, without the == lines, its last lines only", () => {
    expect(stepOutput(LOG, "postgres")).toEqual(["creating the cluster", "psql: error: connection refused"]);
    expect(stepOutput(LOG, "postgres", 1)).toEqual(["psql: error: connection refused"]);
    expect(stepOutput(LOG, "base")).toEqual(["base line 1"]);
    expect(stepOutput(LOG, "never")).toEqual([]);
  });

  test("cloud-init's stages from its output log", () => {
    const out = "Cloud-init v. 22.4.2 running 'init-local' at Mon, 07 Dec 2026\nnoise\nCloud-init v. 22.4.2 running 'modules:final' at Mon\n";
    expect(cloudInitStages(out)).toEqual(["init-local", "modules:final"]);
  });
});

describe("the demo study in place of a placeholder app", () => {
  test("only a python app from git under a name reserved for examples", () => {
    const py = (git: string) => ({ kind: "python", source: { git, ref: "v1.0.0" } });
    expect(hasPlaceholderSource(py("https://git.example.org/lab/study-app.git"))).toBe(true);
    expect(hasPlaceholderSource(py("http://placeholder.invalid/app.git"))).toBe(true);
    expect(hasPlaceholderSource(py("https://github.com/lab/study-app.git"))).toBe(false);
    expect(hasPlaceholderSource(py("https://example.org.evil.net/app.git"))).toBe(false);
    expect(hasPlaceholderSource({ kind: "python", source: { pip: "study-app==1.0" } })).toBe(false);
    expect(hasPlaceholderSource({ kind: "container", source: { git: "https://git.example.org/x.git" } })).toBe(false);
  });

  test("the demo brings its own needs; the stack's port, health path, static folder and gunicorn arguments stay", () => {
    const app = {
      kind: "python",
      name: "study",
      source: { git: "https://git.example.org/a.git", ref: "v1.4.0" },
      packages: ["gunicorn", "psycopg2-binary"],
      migrate: ["flask db upgrade"],
      start: "gunicorn --bind 127.0.0.1:${PORT} wsgi:app",
      port: 8000,
      healthPath: "/healthz",
      static: { urlPath: "/static", dir: "app/static" },
    };
    expect(withDemoApp(app, "http://10.231.20.1:8080/app.git")).toEqual({
      ...app,
      source: { git: "http://10.231.20.1:8080/app.git", ref: "v1.4.0" },
      packages: [],
      migrate: [],
      aptPackages: ["gunicorn", "python3-psycopg2"],
      systemSitePackages: true,
      start: "python3 -m gunicorn --bind 127.0.0.1:${PORT} wsgi:app",
    });
  });
});
