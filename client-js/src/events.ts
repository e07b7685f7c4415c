/** A small typed event emitter (no dependency on Node's `events`). */

/** Any listener signature; parameters are checked per event by the map type. */
export type Listener = (...args: never[]) => unknown;

/** Maps each event name to its listener signature. */
export type EventMap<T> = { [K in keyof T]: Listener };

/**
 * Emits the events of `T`, a map from event name to listener type. A listener that throws does
 * not stop the others; the error is reported with `console.error`.
 */
export class TypedEventEmitter<T extends EventMap<T>> {
  private readonly listeners = new Map<keyof T, Set<T[keyof T]>>();

  /** Calls `listener` on every `event`. */
  on<K extends keyof T>(event: K, listener: T[K]): this {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return this;
  }

  /** Calls `listener` on the next `event` only. */
  once<K extends keyof T>(event: K, listener: T[K]): this {
    const wrapper = ((...args: Parameters<T[K]>) => {
      this.off(event, wrapper);
      return (listener as (...a: Parameters<T[K]>) => unknown)(...args);
    }) as T[K];
    return this.on(event, wrapper);
  }

  /** Removes `listener`. */
  off<K extends keyof T>(event: K, listener: T[K]): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof T): this {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof T): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls the listeners of `event` in order; true if there was any. */
  emit<K extends keyof T>(event: K, ...args: Parameters<T[K]>): boolean {
    const set = this.listeners.get(event);
    if (set === undefined || set.size === 0) return false;
    for (const listener of [...set]) {
      try {
        (listener as (...a: Parameters<T[K]>) => unknown)(...args);
      } catch (e) {
        console.error(`listener of ${String(event)} threw`, e);
      }
    }
    return true;
  }
}
