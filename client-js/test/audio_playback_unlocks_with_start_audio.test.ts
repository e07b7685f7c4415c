import { describe, expect, it } from "vitest";

import { AudioPlayback, type Playable } from "../src/audio_playback.js";
import { rmsLevel } from "../src/codec/audio_decode.js";
import { until } from "./fake_session.js";

/** An `<audio>` whose `play()` the browser refuses until `allowed`. */
class FakeAudio implements Playable {
  paused = true;
  constructor(public allowed: () => boolean) {}
  play(): Promise<void> {
    if (!this.allowed()) return Promise.reject(new DOMException("autoplay", "NotAllowedError"));
    this.paused = false;
    return Promise.resolve();
  }
}

describe("AudioPlayback", () => {
  it("reports blocked playback once and unblocks with start()", async () => {
    let gesture = false;
    const changes: boolean[] = [];
    const p = new AudioPlayback((can) => changes.push(can));
    const a = new FakeAudio(() => gesture);
    const b = new FakeAudio(() => gesture);
    p.add(a);
    p.add(b);
    await until(() => changes.length === 1);
    expect(p.canPlayback).toBe(false);
    expect(await p.start()).toBe(false);
    expect(changes).toEqual([false]);
    gesture = true;
    expect(await p.start()).toBe(true);
    expect(changes).toEqual([false, true]);
    expect(a.paused || b.paused).toBe(false);
  });

  it("stays allowed when playback starts, and ignores other errors", async () => {
    const changes: boolean[] = [];
    const p = new AudioPlayback((can) => changes.push(can));
    p.add(new FakeAudio(() => true));
    p.add({ paused: true, play: () => Promise.reject(new DOMException("no source", "NotSupportedError")) });
    await new Promise((r) => setTimeout(r, 0));
    expect(p.canPlayback).toBe(true);
    expect(changes).toEqual([]);
  });

  it("forgets removed elements", async () => {
    const changes: boolean[] = [];
    const p = new AudioPlayback((can) => changes.push(can));
    const a = new FakeAudio(() => false);
    p.add(a);
    p.remove(a);
    await new Promise((r) => setTimeout(r, 0));
    expect(changes).toEqual([]);
  });
});

describe("rmsLevel", () => {
  it("is 0 for silence, 1 for full scale, about 0.707 for a full sine", () => {
    expect(rmsLevel(new Float32Array(480))).toBe(0);
    expect(rmsLevel(new Float32Array(480).fill(1))).toBe(1);
    const sine = Float32Array.from({ length: 480 }, (_, i) => Math.sin((2 * Math.PI * i) / 48));
    expect(rmsLevel(sine)).toBeCloseTo(Math.SQRT1_2, 3);
    expect(rmsLevel(new Float32Array(0))).toBe(0);
  });
});
