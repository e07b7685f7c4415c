// @ts-check
// Bad input in the demo app gives typed errors and a message, never an unhandled rejection or a
// page error: a wrong token and an expired one (JoinRefusedError with invalid_token /
// token_expired), an unreachable server (ConnectionError), and a camera the user denied
// (getUserMedia rejects with NotAllowedError: DeviceError permission_denied; the preview says
// so, the meeting is joined without the camera and with the microphone).

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, mintToken, startServer } from "./harness.mjs";
import { TIMEOUT, events, openLobby, unhandledRejections } from "./pages.mjs";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {string} */
let origin;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium chromium-driver`);
  ensureServerBinary();
  server = await startServer();
  origin = demoOrigin(server);
});

after(() => cleanupAll());

/** @param {string | Buffer} b */
const b64url = (b) => Buffer.from(b).toString("base64url");

/**
 * A token of the server's development key whose lifetime ended an hour ago (re-signed: the CLI
 * only mints tokens valid from now, and the server allows 30 s of clock skew).
 */
function expiredToken() {
  const valid = mintToken(server.dataDir, "late", "bad-input");
  const [header, payload] = valid.split(".");
  const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
  const now = Math.floor(Date.now() / 1000);
  Object.assign(claims, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 });
  const key = JSON.parse(readFileSync(join(server.dataDir, "dev-api-key.json"), "utf8"));
  const body = `${header}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${b64url(createHmac("sha256", key.api_secret).update(body).digest())}`;
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", () => r(undefined)));
  const addr = s.address();
  await new Promise((r) => s.close(() => r(undefined)));
  assert.ok(addr !== null && typeof addr === "object");
  return addr.port;
}

/**
 * Opens the demo with `query` (autojoin), waits for the lobby to show the error; returns it and
 * the page's recorded error.
 * @param {string} label
 * @param {Record<string, string>} query
 */
async function joinFails(label, query) {
  const b = await openLobby(origin, label, { autojoin: "1", ...query });
  try {
    const shown = await b.page.textContent("#lobby-error", { timeout: TIMEOUT });
    const recorded = await b.page.evaluate(() => window.dtDemo?.error);
    const log = await events(b.page);
    assert.ok(log.includes("state:disconnected"), `${label}: ${log.join(", ")}`);
    assert.ok(!log.some((e) => e.startsWith("state:connected")), `${label} connected`);
    assert.deepEqual(b.errors, [], `${label}: page errors`);
    assert.deepEqual(await unhandledRejections(b.page), [], `${label}: unhandled rejections`);
    return { shown: shown ?? "", recorded: recorded ?? "" };
  } catch (e) {
    for (const l of b.logs) console.log(l);
    throw e;
  } finally {
    await b.browser.close();
  }
}

test("a wrong token is refused with invalid_token", { timeout: 120_000 }, async (t) => {
  const r = await joinFails("wrong-token", { token: "not-a-token" });
  t.diagnostic(`shown: ${r.shown}; recorded: ${r.recorded}`);
  assert.match(r.recorded, /^JoinRefusedError: .*invalid_token/);
  assert.match(r.shown, /invalid_token/);
});

test("an expired token is refused with token_expired", { timeout: 120_000 }, async (t) => {
  const r = await joinFails("expired-token", { token: expiredToken() });
  t.diagnostic(`shown: ${r.shown}; recorded: ${r.recorded}`);
  assert.match(r.recorded, /^JoinRefusedError: .*token_expired/);
  assert.match(r.shown, /expired/);
});

test("an unreachable server is a ConnectionError", { timeout: 120_000 }, async (t) => {
  const port = await closedPort();
  const token = mintToken(server.dataDir, "lost", "bad-input");
  const r = await joinFails("unreachable", { token, server: `http://127.0.0.1:${port}` });
  t.diagnostic(`shown: ${r.shown}; recorded: ${r.recorded}`);
  assert.match(r.recorded, /^ConnectionError: /);
  assert.match(r.shown, /ConnectionError/);
});

test("a denied camera is a DeviceError; the meeting goes on without it", { timeout: 120_000 }, async (t) => {
  const b = await openLobby(origin, "no-camera", { name: "Dana", meeting: "bad-input" });
  try {
    // The user says no to the camera (the microphone is allowed): what getUserMedia does then.
    await b.page.addInitScript(() => {
      const md = navigator.mediaDevices;
      const original = md.getUserMedia.bind(md);
      md.getUserMedia = (c) =>
        c?.video ? Promise.reject(new DOMException("Permission denied", "NotAllowedError")) : original(c);
    });
    await b.page.reload();
    const previewError = await b.page.textContent("#preview-error", { timeout: TIMEOUT });
    assert.match(previewError ?? "", /Camera: permission denied/);
    await b.page.click("#join");
    await b.page.waitForFunction(() => window.dtDemo?.events.includes("localTrackPublished:microphone") ?? false, undefined, {
      timeout: TIMEOUT,
      polling: 100,
    });
    const notice = await b.page.textContent("#meeting-notice", { timeout: TIMEOUT });
    const recorded = await b.page.evaluate(() => window.dtDemo?.error);
    t.diagnostic(`notice: ${notice}; recorded: ${recorded}`);
    assert.match(notice ?? "", /Camera: permission denied/);
    assert.match(recorded ?? "", /^DeviceError: .*permission_denied/);
    const log = await events(b.page);
    assert.ok(!log.includes("localTrackPublished:camera"), "camera published");
    assert.equal(await b.page.evaluate(() => window.dtDemo?.room.state), "connected");
    assert.equal(await b.page.locator('.tile[data-name="Dana"][data-muted="true"]').count(), 1, "placeholder tile for the camera");
    // Leaving then is a client-initiated Disconnected.
    await b.page.click("#leave");
    await b.page.waitForSelector("#lobby-notice", { timeout: TIMEOUT });
    assert.ok((await events(b.page)).includes("disconnected::client disconnected"));
    assert.deepEqual(b.errors, [], "page errors");
    assert.deepEqual(await unhandledRejections(b.page), [], "unhandled rejections");
  } catch (e) {
    for (const l of b.logs) console.log(l);
    throw e;
  } finally {
    await b.browser.close();
  }
});
