// Fails when a TypeScript file of the package names the `any` type (CONVENTIONS.md rule 19).
// Walks the syntax trees with the TypeScript compiler API, so comments and strings do not count.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const dirs = ["src", "test", "demo", "e2e", "scripts"];

/** @param {string} dir @returns {string[]} */
function files(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|mts)$/.test(name) && !name.endsWith(".d.ts") ? [p] : [];
  });
}

let found = 0;
for (const file of dirs.flatMap((d) => files(join(root, d)))) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  /** @param {ts.Node} node */
  const visit = (node) => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      const { line, character } = source.getLineAndCharacterOfPosition(node.getStart());
      console.error(`${relative(root, file)}:${line + 1}:${character + 1}: the type \`any\` is not allowed`);
      found++;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
if (found > 0) process.exit(1);
console.log("no-any: ok");
