// @ts-check
// A UDP relay in front of the server's WebTransport port that limits what the browser can send:
// packets from the browser go through a token bucket at `rateBps` with a bounded queue
// (`queueBytes`, excess dropped, like a congested bottleneck link); packets to the browser pass
// unchanged. `setRate(Infinity)` lifts the limit.

import dgram from "node:dgram";

export class ThrottledUdpRelay {
  /**
   * @param {number} targetPort the server's WebTransport port on 127.0.0.1
   * @param {{ rateBps?: number, queueBytes?: number }} [o]
   */
  constructor(targetPort, o = {}) {
    this.targetPort = targetPort;
    this.rateBps = o.rateBps ?? Infinity;
    this.queueBytes = o.queueBytes ?? 32 * 1024;
    this.port = 0;
    /** @type {dgram.Socket | undefined} */
    this.front = undefined;
    /** @type {Map<string, dgram.Socket>} */
    this.upstreams = new Map();
    /** @type {{ key: string, msg: Buffer }[]} */
    this.queue = [];
    this.queued = 0;
    this.tokens = 0;
    this.last = performance.now();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** Counters: bytes forwarded upstream and packets dropped at the full queue. */
    this.stats = { upBytes: 0, dropped: 0 };
  }

  /** Opens the relay port. */
  async start() {
    const front = dgram.createSocket("udp4");
    front.on("message", (msg, from) => this.fromClient(front, msg, from));
    front.on("error", () => undefined);
    await new Promise((resolve, reject) => {
      front.once("error", reject);
      front.bind(0, "127.0.0.1", () => resolve(undefined));
    });
    this.port = front.address().port;
    this.front = front;
    return this.port;
  }

  /** @param {number} bps the new limit (Infinity: none) */
  setRate(bps) {
    this.rateBps = bps;
    this.pump();
  }

  /**
   * @param {dgram.Socket} front
   * @param {Buffer} msg
   * @param {dgram.RemoteInfo} from
   */
  fromClient(front, msg, from) {
    const key = `${from.address}:${from.port}`;
    if (!this.upstreams.has(key)) {
      const s = dgram.createSocket("udp4");
      s.on("message", (reply) => {
        if (this.front === front) front.send(reply, from.port, from.address);
      });
      s.on("error", () => undefined);
      this.upstreams.set(key, s);
    }
    if (this.queued + msg.length > this.queueBytes) {
      this.stats.dropped++;
      return;
    }
    this.queue.push({ key, msg });
    this.queued += msg.length;
    this.pump();
  }

  /** Sends what the bucket allows; schedules itself while packets wait. */
  pump() {
    const now = performance.now();
    const burst = 8 * 1024;
    this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * (this.rateBps / 8));
    this.last = now;
    for (;;) {
      const head = this.queue[0];
      if (head === undefined) break;
      if (this.rateBps !== Infinity && this.tokens < head.msg.length) break;
      this.queue.shift();
      this.queued -= head.msg.length;
      this.tokens -= head.msg.length;
      this.stats.upBytes += head.msg.length;
      this.upstreams.get(head.key)?.send(head.msg, this.targetPort, "127.0.0.1");
    }
    if (this.rateBps === Infinity) this.tokens = burst;
    clearTimeout(this.timer);
    this.timer = this.queue.length > 0 ? setTimeout(() => this.pump(), 2) : undefined;
  }

  close() {
    clearTimeout(this.timer);
    this.front?.close();
    this.front = undefined;
    for (const s of this.upstreams.values()) s.close();
    this.upstreams.clear();
  }
}
