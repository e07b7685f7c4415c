// @ts-check
// Three Chromium browsers meet in the Svelte demo app the Rust server serves, driven through its
// UI: names and the meeting typed into the lobby form, tokens from the server's POST /demo/token.
// Each sees the two others' video (canvas pixels non-black and changing) and hears their audio
// (the decoded level the demo puts on each tile is above silence); the active speaker is
// outlined; a chat message reaches the two others; a muted camera shows as muted elsewhere and
// its tile stops updating; a screen share appears as an extra tile — headless Chromium cannot
// capture a screen, so the `fakeScreen=1` flag makes the room's `getDisplayMedia` option return
// an animated canvas, published through the same `setScreenShareEnabled` path; leaving removes
// the tiles everywhere. Screenshots of the meeting go to e2e-artifacts/. Waits on DOM state and
// events, never on fixed sleeps.

import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { CHROMIUM, PACKAGE_ROOT, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, events, expectFrozenCanvas, expectLiveCanvas, openLobby, unhandledRejections } from "./pages.mjs";

const MEETING = "three-browsers";
const ARTIFACTS = join(PACKAGE_ROOT, "e2e-artifacts");

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium chromium-driver`);
  ensureServerBinary();
  server = await startServer();
});

after(() => cleanupAll());

/** @typedef {Awaited<ReturnType<typeof openLobby>>} Lobby */

/** @param {string} name */
const tileOf = (name, source = "camera") => `.tile[data-name="${name}"][data-source="${source}"]`;
/** @param {string} name */
const canvasOf = (name, source = "camera") => `${tileOf(name, source)} canvas`;

/**
 * Types `name` and the meeting into the lobby, joins, waits for camera and microphone to be published.
 * @param {Lobby} b
 */
async function joinFromLobby(b) {
  const { page } = b;
  // The camera preview runs before joining.
  await page.waitForFunction(() => {
    const v = document.querySelector("#preview");
    return v instanceof HTMLVideoElement && v.videoWidth > 0;
  }, undefined, { timeout: TIMEOUT, polling: 100 });
  await page.fill("#name", b.label);
  await page.fill("#meeting", MEETING);
  await page.click("#join");
  await page.waitForFunction(
    () => {
      const d = window.dtDemo;
      if (d?.error !== undefined) throw new Error(d.error);
      return (d?.events.includes("localTrackPublished:camera") && d.events.includes("localTrackPublished:microphone")) ?? false;
    },
    undefined,
    { timeout: TIMEOUT, polling: 100 },
  );
}

/**
 * Waits until the tile of `name` in `page` shows a decoded audio level above silence.
 * @param {import("playwright-core").Page} page
 * @param {string} name
 */
async function expectAudio(page, name) {
  const level = await page.waitForFunction(
    (sel) => {
      const t = document.querySelector(sel);
      const v = Number(t instanceof HTMLElement ? t.dataset.audioLevel : 0);
      return v > 0.02 ? v : false;
    },
    tileOf(name),
    { timeout: TIMEOUT, polling: 50 },
  );
  return /** @type {number} */ (await level.jsonValue());
}

test("three browsers meet in the demo: video, audio, chat, mute, screen share, leave", { timeout: 480_000 }, async (t) => {
  const origin = demoOrigin(server);
  /** @type {Lobby[]} */
  const all = [];
  try {
    for (const name of ["Alice", "Bob", "Carol"]) all.push(await openLobby(origin, name, { fakeScreen: "1" }));
    const [alice, bob, carol] = /** @type {[Lobby, Lobby, Lobby]} */ (all);
    for (const b of all) await joinFromLobby(b);

    // Everyone sees and hears the two others.
    for (const b of all) {
      for (const other of all.filter((o) => o !== b)) {
        const seen = await expectLiveCanvas(b.page, canvasOf(other.label));
        const level = await expectAudio(b.page, other.label);
        t.diagnostic(`${b.label} sees ${other.label} ${seen.second.width}x${seen.second.height} (mean ${seen.second.mean.toFixed(1)}), hears level ${level.toFixed(3)}`);
      }
    }
    // The server's ActiveSpeakersChanged outlines whoever speaks (the fake microphones beep).
    for (const b of all) {
      const speaking = await b.page.waitForSelector('.tile.speaking[data-speaking="true"][data-local="false"]', { timeout: TIMEOUT });
      t.diagnostic(`${b.label} sees ${await speaking.getAttribute("data-name")} speaking; connection ${await b.page.textContent("#connection-quality")}`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const b of all) await b.page.screenshot({ path: join(ARTIFACTS, `three_browsers_${b.label.toLowerCase()}.png`) });

    // Chat: Alice writes; Bob and Carol get an unread badge and the message.
    await alice.page.click("#toggle-chat");
    await alice.page.fill("#chat-input", "hello from Alice");
    await alice.page.click("#chat-send");
    await alice.page.waitForSelector('.chat-message.mine:has-text("hello from Alice")', { timeout: TIMEOUT });
    for (const b of [bob, carol]) {
      await b.page.waitForSelector("#chat-unread", { timeout: TIMEOUT });
      await b.page.click("#toggle-chat");
      const text = await b.page.textContent('.chat-message[data-name="Alice"] .text', { timeout: TIMEOUT });
      assert.equal(text, "hello from Alice");
    }
    await alice.page.screenshot({ path: join(ARTIFACTS, "three_browsers_chat.png") });

    // Carol stops her camera (mute): Alice and Bob see it muted, and her picture freezes.
    await carol.page.click("#toggle-camera");
    await carol.page.waitForSelector('#toggle-camera[aria-pressed="false"]', { timeout: TIMEOUT });
    for (const b of [alice, bob]) {
      await b.page.waitForSelector(`${tileOf("Carol")}[data-muted="true"]`, { timeout: TIMEOUT });
      if (!(await b.page.isVisible("#participant-list"))) await b.page.click("#toggle-people");
      await b.page.waitForSelector('.person[data-name="Carol"] .state.off[title="Camera off"]', { timeout: TIMEOUT });
      const frozen = await expectFrozenCanvas(b.page, canvasOf("Carol"), 1500);
      const decoded = await b.page.evaluate(() => {
        const p = [...(window.dtDemo?.room.remoteParticipants.values() ?? [])].find((x) => x.name === "Carol");
        const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.source === "camera");
        return pub?.track?.stats.framesOutput ?? 0;
      });
      t.diagnostic(`${b.label}: Carol's camera muted, picture frozen (${frozen}), ${decoded} frames decoded`);
    }
    // Unmuting brings her video back.
    await carol.page.click("#toggle-camera");
    for (const b of [alice, bob]) {
      await b.page.waitForSelector(`${tileOf("Carol")}[data-muted="false"]`, { timeout: TIMEOUT });
      await expectLiveCanvas(b.page, canvasOf("Carol"));
    }

    // Bob shares his "screen": an extra tile for Alice and Carol.
    await bob.page.click("#toggle-screen");
    await bob.page.waitForSelector('#toggle-screen[aria-pressed="true"]', { timeout: TIMEOUT });
    for (const b of [alice, carol]) {
      await expectLiveCanvas(b.page, canvasOf("Bob", "screen_share"));
      const tiles = await b.page.locator(".tile").count();
      assert.equal(tiles, 4, `${b.label} should show 3 cameras and 1 screen`);
    }
    await alice.page.screenshot({ path: join(ARTIFACTS, "three_browsers_screen_share.png") });
    await bob.page.click("#toggle-screen");
    for (const b of [alice, carol]) await b.page.waitForSelector(tileOf("Bob", "screen_share"), { state: "detached", timeout: TIMEOUT });

    // Carol leaves: her tiles go away everywhere; she is back in the lobby.
    await carol.page.click("#leave");
    await carol.page.waitForSelector("#lobby-notice", { timeout: TIMEOUT });
    for (const b of [alice, bob]) {
      await b.page.waitForSelector(tileOf("Carol"), { state: "detached", timeout: TIMEOUT });
      assert.equal(await b.page.locator(".tile").count(), 2);
    }
    assert.ok((await events(carol.page)).some((e) => e.startsWith("disconnected:")), "Carol saw Disconnected");

    for (const b of all) {
      assert.deepEqual(b.errors, [], `${b.label} page errors`);
      assert.deepEqual(await unhandledRejections(b.page), [], `${b.label} unhandled rejections`);
    }
  } catch (e) {
    for (const b of all) {
      for (const l of b.logs) console.log(l);
      console.log(`${b.label}: ${(await events(b.page).catch(() => [])).join(", ")}`);
    }
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    for (const b of all) await b.browser.close();
  }
});
