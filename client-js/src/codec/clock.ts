/** Wall-clock time in microseconds since the Unix epoch (frame capture timestamps). */
export function nowUs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}
