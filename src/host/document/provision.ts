// The one provisioning script a host runs at the end of its first boot (cloud-init's runcmd) and at
// every re-provisioning: the parts' steps in order, each logged, the whole run failing on the first
// error. It is idempotent: running it again converges the host to what was rendered.
import { PATHS, ProvisionStep, script } from "./part";
import { bashScript } from "./shell";
import type { HostFile } from "./part";
import { hostAsset } from "./template";

export const PROVISION_SCRIPT = `${PATHS.sbin}/studyhost-provision`;
export const PROVISION_LOG = "/var/log/studyhost-provision.log";
export const MANIFEST_RENDERED = `${PATHS.etc}/manifest.rendered.json`;
export const MANIFEST = `${PATHS.etc}/manifest.json`;

// Step bodies are not indented: a here-document or a Python snippet inside a step must stay intact.
function stepFunction(step: ProvisionStep): string {
  return `step_${step.name.replace(/[^a-z0-9]/g, "_")}() {\n${step.script.trim()}\n}`;
}

/** Merges the versions of what was installed into the manifest, for operators and tests. */
export const MANIFEST_PY = hostAsset(__dirname, "write_manifest.py");

const MANIFEST_SCRIPT = `${PATHS.lib}/write_manifest.py`;
const MANIFEST_STEP: ProvisionStep = {
  name: "manifest",
  script: `${MANIFEST_SCRIPT} ${MANIFEST_RENDERED} ${MANIFEST}\nchmod 0644 ${MANIFEST}`,
};

/**
 * The gate of steps that need others (rendered only when a step has `needs`): a step runs only if
 * every step it needs ran earlier in this run and succeeded; otherwise it is skipped and counts as failed.
 */
function needsFunction(steps: readonly ProvisionStep[]): string {
  const names = steps.map((s) => s.name);
  const cases = steps
    .filter((s) => s.needs?.length)
    .map((s) => {
      for (const n of s.needs!) {
        if (names.indexOf(n) < 0 || names.indexOf(n) > names.indexOf(s.name))
          throw new Error(`provisioning step ${s.name} needs ${n}, which does not run before it`);
      }
      return `    ${s.name}) echo ${s.needs!.join(" ")} ;;`;
    });
  return `
# Steps that need others: production's app is deployed only once its staging copy is healthy.
needs() {
  case "$1" in
${cases.join("\n")}
  esac
}
`;
}

const NEEDS_CHECK = `  blocked=""
  for need in $(needs "$current"); do
    if [[ " \${failed[*]} " == *" $need "* ]]; then blocked=$need; break; fi
  done
  if [ -n "$blocked" ]; then
    echo "== step $current SKIPPED: it needs $blocked, which failed"
    failed+=("$current")
    continue
  fi
`;

export function provisionScript(steps: readonly ProvisionStep[]): string {
  const all = [...steps, MANIFEST_STEP];
  const gated = all.some((s) => s.needs?.length);
  return bashScript(
    "studyhost-provision: make this host what studyhost rendered for it (safe to run again).",
    `
exec > >(tee -a ${PROVISION_LOG}) 2>&1
echo "== studyhost-provision started $(date -u +%Y-%m-%dT%H:%M:%SZ)"

${all.map(stepFunction).join("\n\n")}
${gated ? needsFunction(all) : ""}
# Each step runs in its own subshell with errexit: a failed step is reported and recorded, and the
# steps after it still run (a broken app must not leave the host without its firewall or backups).
# The run fails at the end if any step did.
failed=()
for current in ${all.map((s) => s.name).join(" ")}; do
  echo "== step $current"
${gated ? NEEDS_CHECK : ""}  set +e
  (set -Eeuo pipefail; trap 'echo "== step $current FAILED at line $LINENO: $BASH_COMMAND"' ERR; "step_\${current//[^a-z0-9]/_}")
  status=$?
  set -e
  if [ "$status" -ne 0 ]; then failed+=("$current"); fi
done
if [ "\${#failed[@]}" -gt 0 ]; then
  echo "== studyhost-provision FAILED steps: \${failed[*]}"
  exit 1
fi
echo "== studyhost-provision finished $(date -u +%Y-%m-%dT%H:%M:%SZ)"
`,
  );
}

/** The provisioning script and the rendered manifest, as the host's last part. */
export function provisionFiles(steps: readonly ProvisionStep[], manifest: object): HostFile[] {
  return [
    script(PROVISION_SCRIPT, provisionScript(steps)),
    script(MANIFEST_SCRIPT, MANIFEST_PY),
    { path: MANIFEST_RENDERED, content: JSON.stringify(manifest, null, 2) + "\n", permissions: "0644" },
  ];
}
