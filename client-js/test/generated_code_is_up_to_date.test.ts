import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GEN = join(ROOT, "src/proto/gen");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe("src/proto/gen", () => {
  const out = mkdtempSync(join(tmpdir(), "dt-gen-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("is what `npm run gen` generates from ../proto", () => {
    // The buf binary ships in the @bufbuild/buf npm package: no network needed.
    execFileSync(join(ROOT, "node_modules/.bin/buf"), ["generate", "-o", out], { cwd: ROOT, stdio: "pipe" });
    const fresh = join(out, "src/proto/gen");
    const want = files(fresh).map((f) => relative(fresh, f)).sort();
    const have = files(GEN).map((f) => relative(GEN, f)).sort();
    expect(have).toEqual(want);
    const stale = want.filter((f) => readFileSync(join(GEN, f), "utf8") !== readFileSync(join(fresh, f), "utf8"));
    expect(stale, "out of date with ../proto: run `npm run gen`").toEqual([]);
  }, 60_000);
});
