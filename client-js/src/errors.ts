/**
 * Client errors, sorted by who is at fault (mirrors `dark_tower_client::ClientError`). Every
 * error is a {@link DarkTowerError}; `code` is set when the server named one.
 */

import { codeSpec, type ErrorCodeName, type Fault } from "./proto/error.js";

/** Base class of every error the client throws. */
export class DarkTowerError extends Error {
  override readonly name: string = "DarkTowerError";

  constructor(
    message: string,
    /** The wire error code, when the server sent one. */
    readonly code?: ErrorCodeName,
  ) {
    super(message);
  }

  /** Who is at fault, when known from the code. */
  get fault(): Fault | undefined {
    return this.code === undefined ? undefined : codeSpec(this.code).fault;
  }
}

/** `POST /v1/join` answered with an error (`{"error":{"code","message"}}`). */
export class JoinRefusedError extends DarkTowerError {
  override readonly name = "JoinRefusedError";

  constructor(
    /** HTTP status. */
    readonly status: number,
    code: ErrorCodeName,
    /** The server's message. */
    readonly serverMessage: string,
  ) {
    super(`join refused (${status}): ${code}: ${serverMessage}`, code);
  }
}

/** The server ended the session, or answered a request, with a typed error. */
export class ServerError extends DarkTowerError {
  override readonly name = "ServerError";

  constructor(
    code: ErrorCodeName,
    /** The server's message. */
    readonly serverMessage: string,
  ) {
    super(`server error ${code}: ${serverMessage}`, code);
  }
}

/** The server could not be reached, refused the WebTransport session, or the connection was lost. */
export class ConnectionError extends DarkTowerError {
  override readonly name = "ConnectionError";
}

/** The server sent something this client does not understand. */
export class ProtocolError extends DarkTowerError {
  override readonly name = "ProtocolError";
}

/** The server did not answer in time. */
export class TimeoutError extends DarkTowerError {
  override readonly name = "TimeoutError";
}

/** The call is invalid in the current state or with these arguments. */
export class InvalidUseError extends DarkTowerError {
  override readonly name = "InvalidUseError";
}

/** Something above a protocol limit, refused before sending. */
export class TooLargeError extends DarkTowerError {
  override readonly name = "TooLargeError";

  constructor(
    /** Size of what was to be sent. */
    readonly size: number,
    /** The limit. */
    readonly max: number,
  ) {
    super(`${size} bytes is above the limit of ${max}`, "message_too_large");
  }
}

/** This browser cannot decode a track's codec (the publisher chose one it lacks). */
export class UnsupportedCodecError extends DarkTowerError {
  override readonly name = "UnsupportedCodecError";

  constructor(
    /** The track's WebCodecs codec string. */
    readonly codec: string,
    detail: string,
  ) {
    super(`cannot decode ${codec}: ${detail}`);
  }
}

/** Why a camera, microphone or screen could not be captured. */
export type DeviceErrorReason = "permission_denied" | "not_found" | "in_use" | "unsupported" | "other";

/** A capture (`getUserMedia`, `getDisplayMedia`) failed: the user or the device is at fault. */
export class DeviceError extends DarkTowerError {
  override readonly name = "DeviceError";

  constructor(
    /** What went wrong, sorted. */
    readonly reason: DeviceErrorReason,
    /** What was to be captured: "videoinput", "audioinput" or "screen". */
    readonly device: "videoinput" | "audioinput" | "screen",
    message: string,
  ) {
    super(`cannot capture ${device}: ${reason}: ${message}`);
  }
}

/** The {@link DeviceError} for what `getUserMedia` or `getDisplayMedia` threw. */
export function deviceError(e: unknown, device: DeviceError["device"]): DeviceError {
  if (e instanceof DeviceError) return e;
  const name = e instanceof Error || (typeof e === "object" && e !== null && "name" in e) ? String((e as { name: unknown }).name) : "";
  const reason: DeviceErrorReason =
    name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError"
      ? "permission_denied"
      : name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError"
        ? "not_found"
        : name === "NotReadableError" || name === "AbortError" || name === "TrackStartError"
          ? "in_use"
          : name === "TypeError" || name === "NotSupportedError"
            ? "unsupported"
            : "other";
  return new DeviceError(reason, device, errorMessage(e));
}

/** The message of any thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
