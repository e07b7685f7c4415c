import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The demo page: `npm run dev:demo` serves it, `npm run build:demo` builds it into demo-dist/.
// Serve it from the Dark Tower server's origin (or proxy /v1 to it, as below): the HTTP API
// sends no CORS headers.
const server = process.env.DARK_TOWER_HTTP ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  build: {
    outDir: fileURLToPath(new URL("../demo-dist", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
  },
  server: {
    host: "127.0.0.1",
    proxy: { "/v1": server },
  },
});
