// @ts-check
// Serves a directory on 127.0.0.1 (a secure context) for the browser benchmark's page.

import { existsSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import { extname, join, normalize } from "node:path";

const TYPES = /** @type {Record<string, string>} */ ({
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
});

/**
 * @param {string} root
 * @returns {Promise<{ origin: string, close: () => void }>}
 */
export function startStaticServer(root) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = normalize(join(root, url.pathname === "/" ? "index.html" : url.pathname));
    if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404);
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
    res.end(readFileSync(path));
  });
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      if (addr === null || typeof addr === "string") return reject(new Error("no address"));
      resolve({ origin: `http://127.0.0.1:${addr.port}`, close });
    });
  });
}
