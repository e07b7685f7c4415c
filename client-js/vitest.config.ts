import type { RunnerTask, RunnerTestFile } from "vitest";
import { defineConfig } from "vitest/config";

/** Counts test results in a task tree. */
function count(tasks: readonly RunnerTask[], acc = { passed: 0, failed: 0, skipped: 0 }): typeof acc {
  for (const t of tasks) {
    if (t.type === "suite") count(t.tasks, acc);
    else if (t.mode === "skip" || t.mode === "todo") acc.skipped++;
    else if (t.result?.state === "pass") acc.passed++;
    else if (t.result?.state === "fail") acc.failed++;
  }
  return acc;
}

/** Ends the run with a plain "N passed, N failed" line that CI log readers understand. */
const plainSummary = {
  onFinished(files: RunnerTestFile[] = []): void {
    const c = count(files);
    const crashed = files.filter((f) => f.result?.state === "fail" && f.tasks.length === 0).length;
    console.log(`vitest: ${c.passed} passed, ${c.failed + crashed} failed, ${c.skipped} skipped`);
  },
};

// Unit tests only; the browser test in e2e/ runs with `node --test` (npm run test:e2e).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    reporters: ["default", plainSummary],
  },
});
