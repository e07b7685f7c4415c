/** The E2EE options of a room. */

import type { ExternalE2EEKeyProvider } from "./external_key_provider.js";

/** `RoomOptions.e2ee` (LiveKit's `E2EEOptions`). */
export interface E2EEOptions {
  /** Where the keys come from; keep it to set and rotate keys. */
  keyProvider: ExternalE2EEKeyProvider;
  /**
   * The encryption worker, e.g. `new Worker(new URL("@dark-tower/client/e2ee-worker",
   * import.meta.url), { type: "module" })`. By default the room starts the package's own worker
   * (`e2ee/worker.js` next to this module).
   */
  worker?: Worker;
}
