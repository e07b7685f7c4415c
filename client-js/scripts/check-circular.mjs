// Fails on circular imports between the package's modules (CONVENTIONS.md rule 19).
// Resolves imports with the TypeScript compiler itself (NodeNext: "./x.js" is ./x.ts), which
// generic tools such as dpdm do not do. Type-only imports count too: they still tie modules.
// Usage: node scripts/check-circular.mjs [tsconfig] (default tsconfig.json)
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const configPath = resolve(root, process.argv[2] ?? "tsconfig.json");
const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  },
});
if (config === undefined) throw new Error(`cannot read ${configPath}`);
const files = config.fileNames.filter((f) => !f.includes("/node_modules/"));
const known = new Set(files);

/** @type {Map<string, string[]>} */
const graph = new Map();
for (const file of files) {
  const info = ts.preProcessFile(ts.sys.readFile(file) ?? "", true, true);
  /** @type {string[]} */
  const deps = [];
  for (const imp of info.importedFiles) {
    const r = ts.resolveModuleName(imp.fileName, file, config.options, ts.sys).resolvedModule;
    if (r !== undefined && known.has(resolve(r.resolvedFileName))) deps.push(resolve(r.resolvedFileName));
  }
  graph.set(resolve(file), deps);
}

/** Depth-first search for back edges; prints each cycle once. */
/** @type {Map<string, 1 | 2>} 1 = on the stack, 2 = done */
const state = new Map();
/** @type {string[]} */
const stack = [];
/** @type {string[][]} */
const cycles = [];
/** @param {string} node */
function visit(node) {
  state.set(node, 1);
  stack.push(node);
  for (const dep of graph.get(node) ?? []) {
    if (state.get(dep) === 1) cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
    else if (state.get(dep) === undefined) visit(dep);
  }
  stack.pop();
  state.set(node, 2);
}
for (const node of graph.keys()) if (state.get(node) === undefined) visit(node);

const rel = (/** @type {string} */ f) => relative(root, f);
if (cycles.length > 0) {
  for (const c of cycles) console.error(`circular import: ${c.map(rel).join(" -> ")}`);
  process.exit(1);
}
console.log(`circular: ok (${graph.size} modules under ${rel(dirname(configPath)) || "."})`);
