import { DarkTowerError, DeviceError, JoinRefusedError } from "../../src/index.js";

/** A sentence for the user about `e` (typed client errors get their own wording). */
export function errorMessage(e: unknown): string {
  if (e instanceof DeviceError) {
    const what = e.device === "videoinput" ? "Camera" : e.device === "audioinput" ? "Microphone" : "Screen sharing";
    switch (e.reason) {
      case "permission_denied":
        return `${what}: permission denied.`;
      case "not_found":
        return `${what}: no such device.`;
      case "in_use":
        return `${what}: the device is in use or failed.`;
      default:
        return `${what}: ${e.message}`;
    }
  }
  if (e instanceof JoinRefusedError) {
    switch (e.code) {
      case "invalid_token":
        return "The server refused the token (invalid_token).";
      case "token_expired":
        return "The token has expired (token_expired).";
      default:
        return `The server refused to join: ${e.serverMessage} (${e.code ?? e.status}).`;
    }
  }
  if (e instanceof DarkTowerError) return `${e.name}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
