// Checks the package as users get it: builds dist/, runs `npm pack`, installs the tarball into a
// fresh project in a temporary directory (offline), type-checks a consumer against it with tsc (strict, library
// checks on: the published .d.ts must resolve through the `exports` map) and imports every entry
// point in Node. Usage: npm run check:pack
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "dt-pack-"));
const tsc = join(root, "node_modules/typescript/bin/tsc");

/** @param {string} cmd @param {string[]} args @param {string} cwd */
function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const CONSUMER = `import {
  ConnectionState,
  DeviceError,
  Room,
  RoomEvent,
  TrackSource,
  createLocalVideoTrack,
  type RemoteTrack,
  type RoomOptions,
} from "@dark-tower/client";
import { MAX_RELIABLE_DATA, codeSpec } from "@dark-tower/client/proto";

const options: RoomOptions = { adaptiveStream: true, videoCaptureDefaults: { width: 320, height: 240 } };
export async function join(url: string, token: string, grid: HTMLElement): Promise<Room> {
  const room = new Room(options);
  room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
    if (track.kind === "video") grid.append(track.attach());
  });
  room.on(RoomEvent.Disconnected, (reason) => console.log(reason.code, reason.message));
  await room.connect(url, token);
  try {
    await room.localParticipant.setCameraEnabled(true);
  } catch (e) {
    if (e instanceof DeviceError) console.log(e.reason);
  }
  const preview = await createLocalVideoTrack({ width: 320 });
  preview.stop();
  const state: ConnectionState = room.state;
  console.log(state, TrackSource.Camera, MAX_RELIABLE_DATA, codeSpec("invalid_token").fault);
  return room;
}
`;

let ok = false;
try {
  run("npm", ["run", "build", "--silent"], root);
  const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], root));
  const tarball = join(work, packed[0].filename);
  console.log(`packed ${packed[0].filename}: ${packed[0].files.length} files, ${packed[0].size} bytes`);
  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
  // Offline: npm's cache holds tarballs but not registry metadata, so the runtime dependencies
  // (transitively) are packed from node_modules and installed next to the package's own
  // tarball; npm resolves the package's dependencies to them.
  const deps = new Set();
  const queue = Object.keys(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).dependencies ?? {});
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (deps.has(name)) continue;
    deps.add(name);
    queue.push(...Object.keys(JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).dependencies ?? {}));
  }
  const extra = [...deps].map((name) => {
    const out = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work, join(root, "node_modules", name)], root));
    return join(work, out[0].filename);
  });
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball, ...extra], app);
  console.log(`installed offline: the package and its dependencies ${[...deps].join(", ")}`);
  writeFileSync(join(app, "index.ts"), CONSUMER);
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023", "DOM", "DOM.Iterable"],
          // Nothing global beyond the DOM: the package must bring the typings it uses.
          types: [],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ["index.ts"],
      },
      null,
      2,
    ),
  );
  run(process.execPath, [tsc, "-p", "tsconfig.json"], app);
  console.log("tsc: the consumer type-checks against the packed declarations");
  const imported = run(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const m = await import("@dark-tower/client");
       const p = await import("@dark-tower/client/proto");
       const pkg = await import("@dark-tower/client/package.json", { with: { type: "json" } });
       if (typeof m.Room !== "function" || typeof m.createLocalVideoTrack !== "function") throw new Error("missing exports");
       if (typeof p.codeSpec !== "function") throw new Error("proto entry point empty");
       console.log(pkg.default.name + "@" + pkg.default.version + ": " + Object.keys(m).length + " exports");`,
    ],
    app,
  );
  console.log(`node: imported ${imported.trim()}`);
  ok = true;
} catch (e) {
  const err = /** @type {{ stdout?: string, stderr?: string, message?: string }} */ (e);
  console.error(err.stdout ?? "", err.stderr ?? "", err.message ?? e);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (!ok) {
  console.error("check:pack failed");
  process.exit(1);
}
console.log("check:pack ok");
