/**
 * The error taxonomy (mirrors `dark_tower_core::error`): every error a peer reports carries an
 * error code, and every code belongs to a {@link Fault}. {@link codeSpec} is the one place where
 * codes map to wire numbers, REST names and HTTP statuses (proto/README.md, section 7).
 */

/** Who is at fault for an error, and so what a client should do about it. */
export type Fault =
  /** The peer sent something it must not: fix the client. */
  | "peer"
  /** Missing or bad credentials or permission: get a new token. */
  | "unauthorized"
  /** A version or feature the other side lacks: upgrade. */
  | "incompatible"
  /** The thing does not exist (any more): do not retry. */
  | "not_found"
  /** A limit was reached: retry later. */
  | "resource_exhausted"
  /** A server bug or internal failure: retry with backoff. */
  | "internal";

/** The snake_case name of an error code, as REST `error.code` carries it. */
export type ErrorCodeName =
  | "malformed"
  | "message_too_large"
  | "protocol_violation"
  | "unknown_track"
  | "duplicate_track"
  | "already_exists"
  | "invalid_token"
  | "token_expired"
  | "permission_denied"
  | "meeting_mismatch"
  | "removed"
  | "meeting_locked"
  | "lobby_denied"
  | "unsupported_version"
  | "invalid_request"
  | "meeting_not_found"
  | "meeting_ended"
  | "not_found"
  | "resume_failed"
  | "rate_limited"
  | "meeting_full"
  | "too_many_tracks"
  | "internal"
  | "shutting_down"
  | "timeout";

/** Everything the wire knows about one code. */
export interface CodeSpec {
  /** Wire number: the protobuf `ErrorCode` value and the WebTransport session close code. */
  readonly wire: number;
  /** snake_case name: the REST `error.code`. */
  readonly name: ErrorCodeName;
  /** HTTP status of REST responses with this code. */
  readonly httpStatus: number;
  /** Who is at fault. */
  readonly fault: Fault;
}

const SPECS: readonly CodeSpec[] = [
  { wire: 1, name: "malformed", httpStatus: 400, fault: "peer" },
  { wire: 2, name: "message_too_large", httpStatus: 413, fault: "peer" },
  { wire: 3, name: "protocol_violation", httpStatus: 400, fault: "peer" },
  { wire: 4, name: "unknown_track", httpStatus: 404, fault: "peer" },
  { wire: 5, name: "duplicate_track", httpStatus: 409, fault: "peer" },
  { wire: 6, name: "already_exists", httpStatus: 409, fault: "peer" },
  { wire: 10, name: "invalid_token", httpStatus: 401, fault: "unauthorized" },
  { wire: 11, name: "token_expired", httpStatus: 401, fault: "unauthorized" },
  { wire: 12, name: "permission_denied", httpStatus: 403, fault: "unauthorized" },
  { wire: 13, name: "meeting_mismatch", httpStatus: 403, fault: "unauthorized" },
  { wire: 14, name: "removed", httpStatus: 403, fault: "unauthorized" },
  { wire: 15, name: "meeting_locked", httpStatus: 403, fault: "unauthorized" },
  { wire: 16, name: "lobby_denied", httpStatus: 403, fault: "unauthorized" },
  { wire: 20, name: "unsupported_version", httpStatus: 400, fault: "incompatible" },
  { wire: 21, name: "invalid_request", httpStatus: 400, fault: "incompatible" },
  { wire: 30, name: "meeting_not_found", httpStatus: 404, fault: "not_found" },
  { wire: 31, name: "meeting_ended", httpStatus: 410, fault: "not_found" },
  { wire: 32, name: "not_found", httpStatus: 404, fault: "not_found" },
  { wire: 33, name: "resume_failed", httpStatus: 410, fault: "not_found" },
  { wire: 40, name: "rate_limited", httpStatus: 429, fault: "resource_exhausted" },
  { wire: 41, name: "meeting_full", httpStatus: 409, fault: "resource_exhausted" },
  { wire: 42, name: "too_many_tracks", httpStatus: 409, fault: "resource_exhausted" },
  { wire: 50, name: "internal", httpStatus: 500, fault: "internal" },
  { wire: 51, name: "shutting_down", httpStatus: 503, fault: "internal" },
  { wire: 52, name: "timeout", httpStatus: 503, fault: "internal" },
];

/** Every code name, for reverse lookups and tests. */
export const ALL_ERROR_CODES: readonly ErrorCodeName[] = SPECS.map((s) => s.name);

/** The single mapping of a code to the wire. */
export function codeSpec(name: ErrorCodeName): CodeSpec {
  const spec = SPECS.find((s) => s.name === name);
  // SPECS lists every member of ErrorCodeName (checked by a unit test).
  if (spec === undefined) throw new Error(`unreachable: no spec for ${name}`);
  return spec;
}

/** The code with wire number `wire`, if any. 0 (unspecified) and unknown numbers give `undefined`. */
export function errorCodeFromWire(wire: number): ErrorCodeName | undefined {
  return SPECS.find((s) => s.wire === wire)?.name;
}

/** The code with REST name `name`, if any. */
export function errorCodeFromName(name: string): ErrorCodeName | undefined {
  return SPECS.find((s) => s.name === name)?.name;
}
