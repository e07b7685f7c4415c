/** Byte helpers shared by the codecs: a growable read buffer and hex conversion. */

/**
 * Bytes received from a stream and not yet consumed. Appending may compact or grow the backing
 * array; views returned by {@link ByteQueue.peek} are valid only until the next `push`.
 */
export class ByteQueue {
  private buf = new Uint8Array(0);
  private start = 0;
  private end = 0;

  /** Bytes buffered. */
  get length(): number {
    return this.end - this.start;
  }

  /** Appends `data` (copied). */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.end + data.length > this.buf.length) {
      const live = this.length;
      if (live + data.length <= this.buf.length && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(Math.max(live + data.length, this.buf.length * 2, 256));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(data, this.end);
    this.end += data.length;
  }

  /** The byte at `offset` from the front; the caller checks `offset < length`. */
  byteAt(offset: number): number {
    return this.buf[this.start + offset] ?? 0;
  }

  /** The 4-byte big-endian unsigned integer at `offset`; the caller checks there are 4 bytes. */
  u32At(offset: number): number {
    const i = this.start + offset;
    return (
      ((this.buf[i] ?? 0) * 0x1000000 +
        (((this.buf[i + 1] ?? 0) << 16) | ((this.buf[i + 2] ?? 0) << 8) | (this.buf[i + 3] ?? 0))) >>>
      0
    );
  }

  /** Drops `n` bytes from the front. */
  skip(n: number): void {
    this.start += Math.min(n, this.length);
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  /** Removes and returns (as a copy) the first `n` bytes; the caller checks there are `n`. */
  take(n: number): Uint8Array {
    const out = this.buf.slice(this.start, this.start + n);
    this.skip(n);
    return out;
  }
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Bytes of a hex string; throws on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error("invalid hex string");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
