import { svelte } from "@sveltejs/vite-plugin-svelte";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The demo meeting app. `npm run build:demo` builds it into the server's embedded assets
// (dark-tower-server/assets/demo, committed; `npm run check:demo-build` checks they are up to
// date). `npm run dev:demo` serves it with hot reload, proxying the API to a running server.
const server = process.env.DARK_TOWER_HTTP ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // The server serves the app at its root (and index.html for app routes).
  base: "/",
  plugins: [svelte()],
  build: {
    outDir: fileURLToPath(new URL("../../dark-tower-server/assets/demo", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    host: "127.0.0.1",
    proxy: { "/v1": server, "/demo/token": server },
  },
});
