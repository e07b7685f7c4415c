import { describe, expect, it } from "vitest";

import { parseFlags } from "../demo/lib/flags.js";

describe("the demo's URL flags", () => {
  it("default to this origin, the lobby, and nothing forced", () => {
    expect(parseFlags("", "http://127.0.0.1:8080")).toEqual({
      server: "http://127.0.0.1:8080",
      token: undefined,
      name: "",
      meeting: "",
      autojoin: false,
      camera: undefined,
      mic: undefined,
      adaptive: false,
      e2ee: undefined,
      relayPort: undefined,
      fakeScreen: false,
      codec: undefined,
      simulcast: true,
    });
  });

  it("read what the browser tests pass", () => {
    const f = parseFlags("?token=t&autojoin=1&camera=1&mic=0&adaptive=1&e2ee=pass%20word&relayPort=4444&fakeScreen=1&name=Ann&meeting=m&codec=vp9&simulcast=0", "http://x");
    expect(f).toMatchObject({
      token: "t",
      autojoin: true,
      camera: true,
      mic: false,
      adaptive: true,
      e2ee: "pass word",
      relayPort: "4444",
      fakeScreen: true,
      codec: "vp9",
      simulcast: false,
      name: "Ann",
      meeting: "m",
    });
  });
});
