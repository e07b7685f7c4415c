/**
 * End-to-end encryption of media payloads with SFrame (RFC 9605), using WebCrypto. Mirrors
 * `dark_tower_client::e2ee`; the design, threat model and authenticated header bytes are in
 * `docs/E2EE.md`.
 */

export { EncryptionError, KeyError, type EncryptionErrorKind, type KeyErrorKind } from "./errors.js";
export {
  AUTHENTICATED_HEADER_RANGES,
  FrameDecryptor,
  FrameEncryptor,
  KEY_INDEX_BITS,
  keyIndexOf,
  mediaMetadata,
  senderKid,
} from "./frame.js";
export {
  DEFAULT_PBKDF2_ITERATIONS,
  DEFAULT_PBKDF2_SALT,
  DEFAULT_ROTATION_WINDOW_MS,
  KeyProvider,
  MIN_KEY_LEN,
  baseKeyFromPassphrase,
  participantIdValue,
  senderBaseKey,
  type KeyLookup,
  type KeyProviderOptions,
  type PassphraseParams,
} from "./keys.js";
export {
  CipherSuite,
  SframeKey,
  decodeSframeHeader,
  deriveKeyMaterial,
  encodeSframeHeader,
  sframeHeaderLen,
  type DerivedKeyMaterial,
  type SframeHeader,
} from "./sframe.js";
export { ExternalE2EEKeyProvider, type ExternalE2EEKeyProviderOptions, type KeyOp } from "./external_key_provider.js";
export type { E2EEOptions } from "./options.js";
export { ENCRYPTION_ERROR_INTERVAL_MS, RoomE2EE, type E2EEStats } from "./room_e2ee.js";
