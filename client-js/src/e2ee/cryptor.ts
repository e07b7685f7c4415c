/**
 * One room's E2EE state (mirrors `dark_tower_client::e2ee::room`): the keys, the local
 * participant's encryptor (shared by all its tracks, so the counter is per sender) and the
 * decryptor for everyone else. It runs in the encryption worker (`worker.ts`), or on the main
 * thread in unit tests.
 */

import type { MediaHeader } from "../proto/media.js";
import type { KeyOp } from "./external_key_provider.js";
import { FrameDecryptor, FrameEncryptor } from "./frame.js";
import { KeyProvider } from "./keys.js";
import type { CipherSuite } from "./sframe.js";

/** What a cryptor is set up with at each connect. */
export interface CryptorInit {
  /** The local participant's id ("PA_…"). */
  readonly local: string;
  readonly cipherSuite: CipherSuite;
  readonly rotationWindowMs: number;
}

/** Encrypts the local participant's frames and decrypts everyone else's. */
export class FrameCryptor {
  private readonly keys: KeyProvider;
  private readonly encryptor: FrameEncryptor;
  private readonly decryptor = new FrameDecryptor();

  constructor(init: CryptorInit) {
    this.keys = new KeyProvider({ cipherSuite: init.cipherSuite, rotationWindowMs: init.rotationWindowMs });
    this.encryptor = FrameEncryptor.create(init.local);
  }

  /** Applies a key change (in order with the frames around it). */
  applyKeyOp(op: KeyOp): Promise<void> {
    switch (op.kind) {
      case "shared":
        return this.keys.setSharedKey(op.index, op.key);
      case "participant":
        return this.keys.setParticipantKey(op.participant, op.index, op.key);
      case "removeParticipant":
        return this.keys.removeParticipantKey(op.participant);
    }
  }

  /** The SFrame ciphertext that replaces `payload`. */
  encrypt(header: MediaHeader, payload: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return this.encryptor.encryptFrame(this.keys, header, payload);
  }

  /** The plaintext of a frame `sender` published. */
  decrypt(sender: string, header: MediaHeader, ciphertext: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return this.decryptor.decryptFrame(this.keys, sender, header, ciphertext);
  }
}
