// @ts-check
// A UDP relay in front of the server's WebTransport port, for one browser: two kinds of network
// outage. `cut()` closes its port, so the browser's packets meet ICMP "port unreachable" and its
// QUIC connections fail at once; the server hears nothing more from them. `blackhole()` keeps the
// port but drops every packet both ways, so both ends notice only by their idle timeouts.
// `restore()` ends either. Each client address gets its own upstream socket.

import dgram from "node:dgram";

export class UdpRelay {
  /** @param {number} targetPort the server's WebTransport port on 127.0.0.1 */
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.port = 0;
    /** @type {dgram.Socket | undefined} */
    this.front = undefined;
    /** @type {Map<string, { socket: dgram.Socket, send: (m: Buffer) => unknown }>} */
    this.upstreams = new Map();
    this.dropping = false;
    /** Client addresses in the order their first packet came (one per QUIC connection). */
    /** @type {string[]} */
    this.flows = [];
    /** Flows whose packets are dropped, both ways. */
    /** @type {Set<string>} */
    this.deadFlows = new Set();
  }

  /** Opens the relay port (a new one the first time, the same one after a cut). */
  async start() {
    const front = dgram.createSocket("udp4");
    front.on("message", (msg, from) => this.fromClient(front, msg, from));
    front.on("error", () => undefined);
    await new Promise((resolve, reject) => {
      front.once("error", reject);
      front.bind(this.port, "127.0.0.1", () => resolve(undefined));
    });
    this.port = front.address().port;
    this.front = front;
    return this.port;
  }

  /**
   * @param {dgram.Socket} front
   * @param {Buffer} msg
   * @param {dgram.RemoteInfo} from
   */
  fromClient(front, msg, from) {
    const key = `${from.address}:${from.port}`;
    if (this.dropping || this.deadFlows.has(key)) return;
    let up = this.upstreams.get(key);
    if (up === undefined) {
      const s = dgram.createSocket("udp4");
      /** @type {Buffer[] | undefined} packets waiting for connect() */
      let waiting = [];
      s.on("message", (reply) => {
        if (this.front === front && !this.dropping && !this.deadFlows.has(key)) front.send(reply, from.port, from.address);
      });
      s.on("error", () => undefined);
      s.connect(this.targetPort, "127.0.0.1", () => {
        for (const m of waiting ?? []) s.send(m);
        waiting = undefined;
      });
      up = { socket: s, send: (/** @type {Buffer} */ m) => (waiting === undefined ? s.send(m) : waiting.push(m)) };
      this.upstreams.set(key, up);
      this.flows.push(key);
    }
    up.send(msg);
  }

  /** The outage the browser notices at once: closes the relay port and every upstream socket. */
  cut() {
    this.front?.close();
    this.front = undefined;
    for (const u of this.upstreams.values()) u.socket.close();
    this.upstreams.clear();
  }

  /** The silent outage: every packet is dropped, both ways. */
  blackhole() {
    this.dropping = true;
  }

  /**
   * Silently drops the packets of one flow (one QUIC connection, i.e. one WebTransport session),
   * both ways, for good.
   * @param {string} flow
   */
  blackholeFlow(flow) {
    this.deadFlows.add(flow);
  }

  /** The network is back. */
  async restore() {
    this.dropping = false;
    if (this.front === undefined) await this.start();
  }

  close() {
    this.cut();
  }
}
