import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

import { parseErrorBody, parseJoinResponse, joinUrl, certificateHashes } from "../src/join.js";
import { SDK_NAME, SDK_VERSION } from "../src/version.js";

describe("package metadata", () => {
  it("SDK_NAME and SDK_VERSION match package.json", () => {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(pkg).toMatchObject({ name: SDK_NAME, version: SDK_VERSION });
  });
});

describe("POST /v1/join helpers", () => {
  it("builds the join URL from the server URL", () => {
    expect(joinUrl("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080/v1/join");
    expect(joinUrl("https://meet.example.com/app/")).toBe("https://meet.example.com/v1/join");
    expect(() => joinUrl("wss://x")).toThrow(/http or https/);
    expect(() => joinUrl("nope")).toThrow(/invalid server url/);
  });
  it("parses error bodies, and nothing else", () => {
    expect(parseErrorBody('{"error":{"code":"invalid_token","message":"bad"}}')).toEqual({ code: "invalid_token", message: "bad" });
    expect(parseErrorBody("<html>")).toBeUndefined();
    expect(parseErrorBody('{"error":"x"}')).toBeUndefined();
  });
  it("checks the join response and converts certificate hashes", () => {
    const hash = "AB".repeat(32);
    const r = parseJoinResponse({ signal_url: "https://h:1/v1/signal/m", certificate_sha256: [hash], protocol_version: 1 });
    expect(r.certificateSha256).toEqual(["ab".repeat(32)]);
    const [h] = certificateHashes(r.certificateSha256);
    expect(h?.algorithm).toBe("sha-256");
    expect((h?.value as Uint8Array).length).toBe(32);
    expect(() => parseJoinResponse({ certificate_sha256: [] })).toThrow(/signal_url/);
    expect(() => parseJoinResponse({ signal_url: "x", certificate_sha256: ["zz"] })).toThrow(/64-digit hex/);
  });
});
