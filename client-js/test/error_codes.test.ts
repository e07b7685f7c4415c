import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { ALL_ERROR_CODES, codeSpec, errorCodeFromName, errorCodeFromWire } from "../src/proto/error.js";
import { ErrorCode } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";

describe("error codes", () => {
  it("wire numbers equal the protobuf ErrorCode values of the same name", () => {
    for (const name of ALL_ERROR_CODES) {
      const key = name.toUpperCase();
      const protoValue: unknown = Reflect.get(ErrorCode, key);
      expect(protoValue, name).toBe(codeSpec(name).wire);
    }
  });
  it("every protobuf ErrorCode except UNSPECIFIED has a spec", () => {
    const numbers = Object.values(ErrorCode).filter((v): v is number => typeof v === "number" && v !== 0);
    expect(numbers.map((n) => errorCodeFromWire(n))).not.toContain(undefined);
    expect(numbers.length).toBe(ALL_ERROR_CODES.length);
  });
  it("maps names and numbers both ways; unknown ones to undefined", () => {
    expect(errorCodeFromWire(12)).toBe("permission_denied");
    expect(errorCodeFromName("meeting_full")).toBe("meeting_full");
    expect(codeSpec("meeting_ended").httpStatus).toBe(410);
    expect(errorCodeFromWire(0)).toBeUndefined();
    expect(errorCodeFromWire(999)).toBeUndefined();
    expect(errorCodeFromName("nope")).toBeUndefined();
  });
});

describe("the error table of proto/README.md section 7", () => {
  const readme = readFileSync(fileURLToPath(new URL("../../proto/README.md", import.meta.url)), "utf8");
  const rows = [...readme.matchAll(/^\|\s*(\d+)\s*\|\s*`([a-z_]+)`\s*\|\s*`ERROR_CODE_[A-Z_]+`\s*\|\s*(\d+)\s*\|\s*(\w+)\s*\|/gm)];
  const faults: Record<string, string> = {
    Peer: "peer",
    Unauthorized: "unauthorized",
    Incompatible: "incompatible",
    NotFound: "not_found",
    ResourceExhausted: "resource_exhausted",
    Internal: "internal",
  };
  it("lists every code this package knows, with the same number, status and fault", () => {
    expect(rows.length).toBeGreaterThan(0);
    const table = rows.map(([, wire, name, status, fault]) => ({
      wire: Number(wire),
      name,
      httpStatus: Number(status),
      fault: faults[fault ?? ""],
    }));
    expect(table).toEqual(ALL_ERROR_CODES.map((n) => ({ ...codeSpec(n) })));
  });
});
