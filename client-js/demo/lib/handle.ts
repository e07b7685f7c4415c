/** `window.dtDemo`: what the demo exposes to the browser tests (e2e/ type-checks against it). */

import type { ExternalE2EEKeyProvider, Room } from "../../src/index.js";

/** What the browser tests read. */
export interface DemoHandle {
  room: Room;
  /** The E2EE keys, when E2EE is configured. */
  keyProvider: ExternalE2EEKeyProvider | undefined;
  /** Every room event, in order, as "event:detail". */
  events: string[];
  /** The last error, if any. */
  error: string | undefined;
}

declare global {
  interface Window {
    dtDemo?: DemoHandle;
  }
}
