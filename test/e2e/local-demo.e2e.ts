// `sudo npx studyhost local --config Pulumi.small.yaml`, the README's first command, on the example as
// shipped: its app is a placeholder under example.org, so studyhost serves its own demo study
// (src/local/demo-app) in its place, and the stack boots a working study server with nothing of
// the user's own. A participant's answers go in through https and come out on the admin path.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./lab";

const LAB = 10;
jest.setTimeout(25 * 60_000);

const work = mkdtempSync("/var/tmp/studyhost-e2e-local-demo-");
const stateDir = join(work, "local");
const studyhost = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO, "bin/studyhost.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, STUDYHOST_LOCAL_DIR: stateDir },
    timeout: 20 * 60_000,
  });

let started: ReturnType<typeof studyhost>;
let state: { domain: string; caFile: string; internetNetns: string; adminAddress: string; hosts: { address: string; dir: string }[] };

beforeAll(() => {
  started = studyhost("local", "--config", join(REPO, "Pulumi.small.yaml"), "--lab", String(LAB));
  console.log(`studyhost local:\n${started.stdout}${started.stderr}`);
  state = JSON.parse(readFileSync(join(stateDir, `lab-${LAB}`, "state.json"), "utf8"));
});

afterAll(() => {
  const stop = studyhost("local", "--stop", "--lab", String(LAB));
  if (stop.status !== 0) console.log(`studyhost local --stop:\n${stop.stdout}${stop.stderr}`);
});

/** A request to the study from the lab's internet (from the admin address with `asAdmin`): code, headers and body. */
function request(path: string, opts: { asAdmin?: boolean; data?: string } = {}) {
  const r = spawnSync(
    "ip",
    [
      "netns",
      "exec",
      state.internetNetns,
      "curl",
      "-sS",
      "--max-time",
      "10",
      "--cacert",
      state.caFile,
      "--resolve",
      `${state.domain}:443:${state.hosts[0].address}`,
      "-D",
      "-",
      ...(opts.asAdmin ? ["--interface", state.adminAddress] : []),
      ...(opts.data ? ["--data", opts.data] : []),
      `https://${state.domain}${path}`,
    ],
    { encoding: "utf8" },
  );
  const [head, ...body] = r.stdout.split("\r\n\r\n");
  return { code: head.match(/^HTTP\/\S+ (\d+)/)?.[1] ?? "000", head, body: body.join("\r\n\r\n"), stderr: r.stderr };
}

test("the example boots with the demo study in place of its placeholder app, and says so", () => {
  expect([started.status, started.stderr]).toEqual([
    0,
    expect.stringContaining("https://git.example.org/lab/study-app.git is an example placeholder: serving studyhost's demo study in its place"),
  ]);
  expect(started.stdout).toContain("url      https://small-study.example.org/");
  expect(started.stderr).toMatch(/^ {2}study-app: provisioned$/m);
});

test("a participant opens the questionnaire and sends answers over https; the admin path, from the admin network only, lists them", () => {
  const page = request("/");
  expect([page.code, page.body]).toEqual(["200", expect.stringContaining('<form method="post" action="/answers">')]);
  expect(page.head).toMatch(/^strict-transport-security: max-age=\d+/im);
  expect(request("/static/style.css").code).toBe("200");
  const sent = request("/answers", { data: "sleep=7&mood=4" });
  expect([sent.code, sent.body]).toEqual(["201", expect.stringContaining("Your answers are saved.")]);
  expect(request("/answers", { data: "sleep=99&mood=4" }).code).toBe("400");

  // The admin path answers the admin network only.
  expect(request("/admin/answers").code).toBe("403");
  const answers = request("/admin/answers", { asAdmin: true });
  expect(answers.code).toBe("200");
  expect(JSON.parse(answers.body)).toEqual([{ id: 1, answeredAt: expect.any(String), sleep: 7, mood: 4 }]);
});
