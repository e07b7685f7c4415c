/** Pulls captured frames (video or audio) from a `MediaStreamTrackProcessor` reader. */

import { errorMessage } from "../errors.js";

/**
 * Reads `reader` until it ends or `stopped()` says so, handing each frame to `encode` and closing
 * it afterwards (the encoder copies what it needs). Errors end the loop with a warning naming
 * `label`, unless the pipeline was stopped on purpose.
 */
export async function pumpCapture<T extends { close(): void }>(
  reader: ReadableStreamDefaultReader<T>,
  stopped: () => boolean,
  encode: (frame: T) => void,
  onFrame: () => void,
  label: string,
): Promise<void> {
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || stopped()) {
        value?.close();
        return;
      }
      onFrame();
      try {
        encode(value);
      } finally {
        value.close();
      }
    }
  } catch (e) {
    if (!stopped()) console.warn(`${label} capture ended:`, errorMessage(e));
  }
}
