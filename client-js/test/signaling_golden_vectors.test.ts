import { fromJson, toBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { fromHex, toHex } from "../src/proto/bytes.js";
import { ClientMessageSchema, ServerMessageSchema } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { MAX_SIGNAL_MESSAGE } from "../src/proto/limits.js";
import {
  MessageReader,
  SignalCodecError,
  decodeClient,
  decodeServer,
  frameBody,
  frameClient,
  frameServer,
} from "../src/proto/signal.js";
import { loadVectors, type InvalidSignalCase, type SignalCase } from "./vectors.js";

/** Splits every body out of `framed` with a reader fed `step` bytes at a time. */
function split(framed: Uint8Array, step: number): Uint8Array[] {
  const r = new MessageReader(MAX_SIGNAL_MESSAGE);
  const out: Uint8Array[] = [];
  for (let i = 0; i < framed.length; i += step) {
    r.push(framed.subarray(i, i + step));
    for (let m = r.nextMessage(); m !== undefined; m = r.nextMessage()) out.push(m);
  }
  expect(r.buffered).toBe(0);
  return out;
}

function decodeAs(direction: "client" | "server", body: Uint8Array): void {
  if (direction === "client") decodeClient(body);
  else decodeServer(body);
}

describe("signaling_messages.json", () => {
  for (const c of loadVectors<SignalCase>("signaling_messages.json")) {
    const json = c.json as JsonValue;
    it(`${c.name}: framing splits the body out`, () => {
      for (const step of [1, 5, c.framed_hex.length]) {
        expect(split(fromHex(c.framed_hex), step).map(toHex)).toEqual([c.hex]);
      }
      expect(toHex(frameBody(fromHex(c.hex)))).toBe(c.framed_hex);
    });
    it(`${c.name}: decodes to the described message`, () => {
      const body = fromHex(c.hex);
      const got =
        c.direction === "client"
          ? toJson(ClientMessageSchema, decodeClient(body), { useProtoFieldName: true })
          : toJson(ServerMessageSchema, decodeServer(body), { useProtoFieldName: true });
      expect(got).toEqual(json);
    });
    it(`${c.name}: encodes byte for byte`, () => {
      if (c.direction === "client") {
        const msg = fromJson(ClientMessageSchema, json);
        expect(toHex(toBinary(ClientMessageSchema, msg))).toBe(c.hex);
        expect(toHex(frameClient(msg))).toBe(c.framed_hex);
      } else {
        const msg = fromJson(ServerMessageSchema, json);
        expect(toHex(toBinary(ServerMessageSchema, msg))).toBe(c.hex);
        expect(toHex(frameServer(msg))).toBe(c.framed_hex);
      }
    });
  }
});

describe("signaling_invalid.json", () => {
  for (const c of loadVectors<InvalidSignalCase>("signaling_invalid.json")) {
    it(`${c.name}: fails with ${c.error}`, () => {
      let caught: unknown;
      try {
        const r = new MessageReader(MAX_SIGNAL_MESSAGE);
        r.push(fromHex(c.framed_hex));
        const body = r.nextMessage();
        if (body === undefined) throw new Error("the case holds a whole prefix and body");
        decodeAs(c.direction, body);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SignalCodecError);
      if (caught instanceof SignalCodecError) {
        expect(caught.kind).toBe(c.error);
        expect(caught.code).toBe(c.code);
      }
    });
  }
  it("an oversized prefix is refused before the body arrives", () => {
    const r = new MessageReader(MAX_SIGNAL_MESSAGE);
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, MAX_SIGNAL_MESSAGE + 1);
    r.push(prefix);
    expect(() => r.nextMessage()).toThrow(/exceeds the limit/);
  });
  it("the sender refuses a message above the limit", () => {
    expect(() => frameBody(new Uint8Array(MAX_SIGNAL_MESSAGE + 1))).toThrow(/exceeds the limit/);
    expect(frameBody(new Uint8Array(MAX_SIGNAL_MESSAGE)).length).toBe(MAX_SIGNAL_MESSAGE + 4);
  });
});
