// A jest reporter that lists the failed tests once more, one short entry each, as the very last lines
// before jest's own totals. CI keeps only the head and the tail of a long run's output, and jest's
// "Summary of all failing tests" is skipped below 20 test files and prints whole messages (an end-to-end
// failure carries pages of diagnostics), so without this the tail said "1 failed" but not which.
class FailuresLast {
  onRunComplete(_contexts, results) {
    const failed = [];
    for (const file of results.testResults) {
      const path = file.testFilePath.replace(process.cwd() + "/", "");
      if (file.testExecError) failed.push(`${path}: ${firstLines(file.testExecError.message)}`);
      for (const t of file.testResults) {
        if (t.status === "failed") failed.push(`${path} › ${t.fullName}: ${firstLines(t.failureMessages.join("\n"))}`);
      }
    }
    if (failed.length === 0) return;
    const lines = [`\nFailed (${failed.length}):`, ...failed.map((f) => `  ✕ ${f}`)];
    process.stderr.write(lines.join("\n") + "\n\n");
  }
}

/** The first three non-empty lines of a message, without colour codes, each cut to 200 characters. */
function firstLines(message) {
  return (
    message
      // eslint-disable-next-line no-control-regex -- the terminal's colour codes are what it removes
      .replace(/\u001b\[[0-9;]*m/g, "")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .slice(0, 3)
      .map((l) => (l.length > 200 ? l.slice(0, 200) + "…" : l))
      .join(" | ")
  );
}

module.exports = FailuresLast;
