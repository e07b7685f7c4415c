/** `POST /v1/join` (docs/openapi.yaml): checks the token and learns where to connect. */

import { ConnectionError, JoinRefusedError, ProtocolError, errorMessage } from "./errors.js";
import { fromHex } from "./proto/bytes.js";
import { errorCodeFromName } from "./proto/error.js";

/** The answer of `POST /v1/join`. */
export interface JoinResponse {
  /** Signaling protocol version to speak. */
  protocolVersion: number;
  /** Meeting name. */
  meeting: string;
  /** Identity of the token. */
  identity: string;
  /** Display name of the token, if any. */
  participantName: string | undefined;
  /** WebTransport URL of the meeting controller, without the query. */
  signalUrl: string;
  /** Certificate hashes to pin, lowercase hex; empty for publicly trusted certificates. */
  certificateSha256: string[];
  /** Token expiry, seconds since the epoch, if given. */
  tokenExpiresAt: number | undefined;
}

/** The `fetch` function used for HTTP calls (injectable for tests). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses a `{"error":{"code","message"}}` body; undefined if the body is not one. */
export function parseErrorBody(text: string): { code: string; message: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const { code, message } = body.error;
  if (typeof code !== "string") return undefined;
  return { code, message: typeof message === "string" ? message : "" };
}

/** Checks and converts the JSON of a successful join. */
export function parseJoinResponse(body: unknown): JoinResponse {
  if (!isRecord(body)) throw new ProtocolError("join response: not a JSON object");
  const { signal_url, certificate_sha256, protocol_version, meeting, identity } = body;
  if (typeof signal_url !== "string") throw new ProtocolError("join response: missing signal_url");
  const hashes = certificate_sha256 ?? [];
  if (!Array.isArray(hashes) || !hashes.every((h): h is string => typeof h === "string" && /^[0-9a-f]{64}$/i.test(h))) {
    throw new ProtocolError("join response: certificate_sha256 must list 64-digit hex strings");
  }
  return {
    protocolVersion: typeof protocol_version === "number" ? protocol_version : 1,
    meeting: typeof meeting === "string" ? meeting : "",
    identity: typeof identity === "string" ? identity : "",
    participantName: typeof body.participant_name === "string" ? body.participant_name : undefined,
    signalUrl: signal_url,
    certificateSha256: hashes.map((h) => h.toLowerCase()),
    tokenExpiresAt: typeof body.token_expires_at === "number" ? body.token_expires_at : undefined,
  };
}

/** The `/v1/join` URL of a server given as `http(s)://host:port[/…]`. */
export function joinUrl(serverUrl: string): string {
  let base: URL;
  try {
    base = new URL(serverUrl);
  } catch (e) {
    throw new ConnectionError(`invalid server url: ${errorMessage(e)}`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new ConnectionError("invalid server url: expected http or https");
  }
  return new URL("/v1/join", base).toString();
}

/** Calls `POST /v1/join`; a refusal is a {@link JoinRefusedError} with the server's code. */
export async function joinHttp(
  serverUrl: string,
  token: string,
  protocolVersion: number,
  fetchFn: FetchFn,
  signal?: AbortSignal,
): Promise<JoinResponse> {
  const url = joinUrl(serverUrl);
  let resp: Response;
  try {
    const init: RequestInit = {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ protocol_version: protocolVersion }),
    };
    if (signal !== undefined) init.signal = signal;
    resp = await fetchFn(url, init);
  } catch (e) {
    throw new ConnectionError(`POST ${url}: ${errorMessage(e)}`);
  }
  const text = await resp.text().catch(() => "");
  if (!resp.ok) {
    const err = parseErrorBody(text);
    const code = (err && errorCodeFromName(err.code)) ?? "internal";
    throw new JoinRefusedError(resp.status, code, err?.message ?? text);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError(`join response: ${errorMessage(e)}`);
  }
  return parseJoinResponse(body);
}

/** `serverCertificateHashes` for WebTransport from lowercase hex hashes. */
export function certificateHashes(hexes: readonly string[]): WebTransportHash[] {
  return hexes.map((h) => ({ algorithm: "sha-256", value: fromHex(h) }));
}
