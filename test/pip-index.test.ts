// studyhost:app.pipIndexUrl: the deploy step's pip installs from an institution's package index (a
// private mirror) instead of PyPI. It reaches the pip calls of the deploy script only: not the app's
// env, not its unit. Rendered from the preset examples as `studyhost plan --out` does.
import { spawnSync } from "node:child_process";
import { configError, example, renderAppHost } from "./presets/support";

const pipLines = (script: string) => script.split("\n").filter((l) => /\/venv\/bin\/pip /.test(l));

test("an https index: PIP_INDEX_URL on every pip call of the deploy script, nowhere else", async () => {
  const base = example("backscope");
  const h = await renderAppHost({ ...base, app: { ...(base.app as object), pipIndexUrl: "https://pypi.example.edu/simple" } });
  const deploy = h.file("usr/local/sbin/studyhost-deploy-scope");
  // requirements.txt of the checkout and the preset's packages (gunicorn).
  expect(pipLines(deploy)).toHaveLength(2);
  for (const line of pipLines(deploy))
    expect(line).toContain("runuser -u scope -- env PIP_INDEX_URL='https://pypi.example.edu/simple' /srv/scope/venv/bin/pip install --quiet");
  expect(deploy).not.toContain("PIP_TRUSTED_HOST");
  expect(spawnSync("bash", ["-n"], { input: deploy }).status).toBe(0);
  expect(h.file("etc/scope/env")).not.toContain("PIP_");
  expect(h.file("etc/systemd/system/scope.service")).not.toContain("PIP_");
});

test("a plain-http index (a mirror on a private network) is trusted as named: PIP_TRUSTED_HOST too", async () => {
  const base = example("bofs");
  const h = await renderAppHost({ ...base, app: { ...(base.app as object), pipIndexUrl: "http://10.0.0.5:8090/simple/" } });
  const deploy = h.file("usr/local/sbin/studyhost-deploy-bofs");
  expect(pipLines(deploy).length).toBeGreaterThan(0);
  for (const line of pipLines(deploy))
    expect(line).toContain("env PIP_INDEX_URL='http://10.0.0.5:8090/simple/' PIP_TRUSTED_HOST='10.0.0.5:8090' /srv/bofs/venv/bin/pip install");
});

test("without the key the pip calls are unchanged (PyPI), and a bad URL is one line naming the key", async () => {
  const h = await renderAppHost(example("bofs"));
  expect(h.file("usr/local/sbin/studyhost-deploy-bofs")).toContain("runuser -u bofs -- /srv/bofs/venv/bin/pip install --quiet 'bride-of-frankensystem'\n");
  const base = example("bofs");
  expect(configError({ ...base, app: { ...(base.app as object), pipIndexUrl: "pypi.example.edu" } })).toBe(
    'studyhost:app.pipIndexUrl: got "pypi.example.edu"; expected a package index URL such as https://pypi.example.edu/simple',
  );
});
