/**
 * Whether the page may play remote audio. Browsers refuse to start playback before the user
 * interacted with the page (autoplay policy): `element.play()` rejects with `NotAllowedError`.
 * {@link AudioPlayback} tracks every element remote audio plays through, reports when playback
 * is blocked or allowed, and {@link AudioPlayback.start} retries them all (call it from a click).
 */

/** What plays: an `<audio>` element (tests pass a fake). */
export interface Playable {
  play(): Promise<void>;
  readonly paused: boolean;
}

/** Tracks the playback of remote audio elements; no DOM of its own. */
export class AudioPlayback {
  private readonly elements = new Set<Playable>();
  private allowed = true;

  constructor(
    /** Called when playback becomes blocked (false) or allowed again (true). */
    private readonly onChange: (canPlayback: boolean) => void,
  ) {}

  /** False once a `play()` was refused, until {@link start} succeeds. */
  get canPlayback(): boolean {
    return this.allowed;
  }

  /** Starts playing `el` and keeps it for {@link start}. */
  add(el: Playable): void {
    this.elements.add(el);
    void this.tryPlay(el);
  }

  /** Forgets `el`. */
  remove(el: Playable): void {
    this.elements.delete(el);
  }

  /** Forgets every element (the room disconnected). */
  clear(): void {
    this.elements.clear();
  }

  private async tryPlay(el: Playable): Promise<boolean> {
    try {
      await el.play();
      return true;
    } catch (e) {
      if (isNotAllowed(e) && this.elements.has(el)) this.set(false);
      return false;
    }
  }

  private set(allowed: boolean): void {
    if (this.allowed === allowed) return;
    this.allowed = allowed;
    this.onChange(allowed);
  }

  /**
   * Plays every element again; call it from a user gesture (a click) after playback was
   * blocked. Resolves true when all of them play.
   */
  async start(): Promise<boolean> {
    const results = await Promise.all([...this.elements].map((el) => this.tryPlay(el)));
    const ok = results.every((r) => r);
    if (ok) this.set(true);
    return ok;
  }
}

function isNotAllowed(e: unknown): boolean {
  return typeof e === "object" && e !== null && "name" in e && (e as { name: unknown }).name === "NotAllowedError";
}
