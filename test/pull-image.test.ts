// A container's image at deploy: pulled first, the host's own copy used (with a warning) when the
// registry cannot be reached, the step failed when there is neither. Run for real by bash against a
// stand-in `docker` command on PATH that records its calls.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pullImage } from "../src/host/apps/service";

/** Runs pullImage's snippet (then `echo deployed`) under studyhost's bash flags with a fake docker. */
function runPull(image: string, pull: "ok" | "fails", present: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "pull-image-"));
  writeFileSync(
    join(dir, "docker"),
    `#!/bin/bash
echo "$*" >> ${dir}/calls
case "$1" in
  pull) [ ${pull} = ok ] || { echo "Error response from daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io: no such host" >&2; exit 1; } ;;
  image) [ ${present} = true ] || { echo "Error: No such image: $4" >&2; exit 1; }; [ "$3" = --format ] && echo sha256:0123abcd ;;
esac
exit 0
`,
  );
  chmodSync(join(dir, "docker"), 0o755);
  const r = spawnSync("bash", ["-Eeuo", "pipefail", "-c", `${pullImage(image)}\necho deployed`], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(join(dir, "calls"), "utf8").trim().split("\n") };
}

test("the registry answers: the image is pulled and nothing else is asked", () => {
  const r = runPull("aphacsubot/viewbovis:prod", "ok", true);
  expect(r).toEqual({ status: 0, stdout: "deployed\n", stderr: "", calls: ["pull --quiet aphacsubot/viewbovis:prod"] });
});

test("the registry is down and the host has the image: a warning naming the local copy, and the deploy goes on", () => {
  const r = runPull("aphacsubot/viewbovis:prod", "fails", true);
  expect(r.status).toBe(0);
  expect(r.stdout).toBe("deployed\n");
  expect(r.stderr).toContain("warning: cannot pull aphacsubot/viewbovis:prod: using the copy already on this host (sha256:0123abcd)");
  expect(r.calls[0]).toBe("pull --quiet aphacsubot/viewbovis:prod");
});

test("the registry is down and the host has no copy: the step fails, saying so", () => {
  const r = runPull("nextstrain/auspice:2.51.0", "fails", false);
  expect(r.status).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain("cannot pull nextstrain/auspice:2.51.0 and this host has no copy of it");
});

test("an image reference reaches docker as one word", () => {
  expect(pullImage("a/b:c")).toMatch(/^if ! docker pull --quiet 'a\/b:c'; then$/m);
});
