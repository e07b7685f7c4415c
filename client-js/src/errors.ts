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

/** The message of any thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
