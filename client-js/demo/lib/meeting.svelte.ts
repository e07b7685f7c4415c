/**
 * One meeting as the demo shows it: the {@link Room}, and reactive views of it (people, video
 * tiles, chat, speakers, connection) rebuilt from the room on each event. Also keeps the event
 * log and the `window.dtDemo` handle the browser tests read.
 */

import {
  ConnectionQuality,
  ConnectionState,
  DeviceError,
  ExternalE2EEKeyProvider,
  LocalVideoTrack,
  RemoteAudioTrack,
  RemoteVideoTrack,
  Room,
  RoomEvent,
  TrackSource,
  webTransportFactory,
  type DisconnectReason,
  type Participant,
  type SessionFactory,
} from "../../src/index.js";
import { errorMessage } from "./errors.js";
import { canvasScreen } from "./fake_screen.js";
import type { DemoHandle } from "./handle.js";
import type { DemoFlags } from "./flags.js";

/** A video tile: someone's camera (or their placeholder) or screen. */
export interface Tile {
  id: string;
  identity: string;
  name: string;
  source: "camera" | "screen_share";
  local: boolean;
  track: RemoteVideoTrack | LocalVideoTrack | undefined;
  muted: boolean;
}

/** A row of the participant list. */
export interface Person {
  identity: string;
  name: string;
  local: boolean;
  micOn: boolean;
  cameraOn: boolean;
  screenOn: boolean;
  reconnecting: boolean;
  quality: ConnectionQuality;
}

/** A remote audio track to play. */
export interface AudioEntry {
  id: string;
  identity: string;
  track: RemoteAudioTrack;
}

/** A chat message. */
export interface ChatMessage {
  id: number;
  from: string;
  name: string;
  text: string;
  at: number;
  local: boolean;
}

/** How the join should go. */
export interface JoinRequest {
  name: string;
  meeting: string;
  passphrase: string;
  camera: boolean;
  mic: boolean;
  /** A captured preview to publish as the camera. */
  preview: LocalVideoTrack | undefined;
  cameraDevice: string | undefined;
  micDevice: string | undefined;
  speakerDevice: string | undefined;
}

export const CHAT_TOPIC = "chat";

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** A participant's identity from a display name: a slug and a random suffix (names may repeat). */
export function identityFor(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  const suffix = Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, "0");
  return `${slug || "guest"}-${suffix}`;
}

/** Asks the server's demo endpoint for a participant token. */
export async function demoToken(server: string, identity: string, meeting: string, name: string): Promise<string> {
  const resp = await fetch(new URL("/demo/token", server), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ identity, meeting, name }),
  });
  const body: unknown = await resp.json().catch(() => undefined);
  if (!resp.ok || typeof body !== "object" || body === null || !("token" in body) || typeof body.token !== "string") {
    const err =
      typeof body === "object" && body !== null && "error" in body && typeof body.error === "object" && body.error !== null && "message" in body.error
        ? String(body.error.message)
        : `HTTP ${resp.status}`;
    throw new Error(`the server gave no demo token: ${err}`);
  }
  return body.token;
}

/** The `relayPort` test hook: every session's URL with its port replaced. */
function relayedFactory(port: string | undefined): SessionFactory | undefined {
  if (port === undefined) return undefined;
  return (url, hashes) => {
    const u = new URL(url);
    u.port = port;
    return webTransportFactory(u.toString(), hashes);
  };
}

/** A meeting: the room and what the UI shows of it. */
export class Meeting {
  readonly room: Room;
  readonly keyProvider: ExternalE2EEKeyProvider | undefined;
  readonly handle: DemoHandle;

  state = $state<ConnectionState>(ConnectionState.Disconnected);
  reconnecting = $state(false);
  tiles = $state.raw<Tile[]>([]);
  people = $state.raw<Person[]>([]);
  audio = $state.raw<AudioEntry[]>([]);
  chat = $state.raw<ChatMessage[]>([]);
  unread = $state(0);
  chatOpen = $state(false);
  speakers = $state.raw<string[]>([]);
  /** Decoded audio level per remote identity (peak, decaying), for the tiles. */
  levels = $state.raw<Record<string, number>>({});
  quality = $state<ConnectionQuality>(ConnectionQuality.Unknown);
  e2ee = $state(false);
  canPlaybackAudio = $state(true);
  micOn = $state(false);
  cameraOn = $state(false);
  screenOn = $state(false);
  /** Shown over the meeting until dismissed. */
  notice = $state<string | undefined>();
  /** Set once the room is over, with why. */
  ended = $state<DisconnectReason | undefined>();

  private nextChatId = 1;
  private levelTimer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly flags: DemoFlags, passphrase: string | undefined) {
    const sessionFactory = relayedFactory(flags.relayPort);
    this.keyProvider = passphrase === undefined || passphrase === "" ? undefined : new ExternalE2EEKeyProvider();
    this.room = new Room({
      clientDetail: "dark-tower demo",
      adaptiveStream: flags.adaptive,
      simulcast: flags.simulcast,
      ...(flags.codec === undefined ? {} : { videoCodec: flags.codec }),
      ...(sessionFactory === undefined ? {} : { sessionFactory }),
      ...(this.keyProvider === undefined ? {} : { e2ee: { keyProvider: this.keyProvider } }),
      ...(flags.fakeScreen ? { getDisplayMedia: () => canvasScreen() } : {}),
    });
    this.handle = { room: this.room, keyProvider: this.keyProvider, events: [], error: undefined };
    window.dtDemo = this.handle;
    this.listen();
  }

  private log(entry: string): void {
    this.handle.events.push(entry);
  }

  /** Records an error for the UI and the tests. */
  fail(e: unknown): void {
    this.handle.error = errorText(e);
    this.log(`error:${this.handle.error}`);
    this.notice = errorMessage(e);
  }

  private listen(): void {
    const r = this.room;
    const refresh = (): void => this.refresh();
    r.on(RoomEvent.ConnectionStateChanged, (s) => {
      this.log(`state:${s}`);
      this.state = s;
      this.reconnecting = s === ConnectionState.Reconnecting;
    })
      .on(RoomEvent.Reconnecting, () => this.log("reconnecting"))
      .on(RoomEvent.Reconnected, () => {
        this.log("reconnected");
        refresh();
      })
      .on(RoomEvent.ParticipantReconnecting, (p) => {
        this.log(`participantReconnecting:${p.identity}`);
        refresh();
      })
      .on(RoomEvent.ParticipantReconnected, (p) => {
        this.log(`participantReconnected:${p.identity}`);
        refresh();
      })
      .on(RoomEvent.ConnectionQualityChanged, (q, p) => {
        this.log(`connectionQuality:${p.identity}:${q}`);
        if (p === r.localParticipant) this.quality = q;
        refresh();
      })
      .on(RoomEvent.EncryptionError, (e, p) => this.log(`encryptionError:${p?.identity ?? ""}:${e.kind}`))
      .on(RoomEvent.ParticipantConnected, (p) => {
        this.log(`participantConnected:${p.identity}`);
        refresh();
      })
      .on(RoomEvent.ParticipantDisconnected, (p) => {
        this.log(`participantDisconnected:${p.identity}`);
        refresh();
      })
      .on(RoomEvent.ParticipantNameChanged, refresh)
      .on(RoomEvent.TrackPublished, (pub, p) => {
        this.log(`trackPublished:${p.identity}:${pub.source}`);
        refresh();
      })
      .on(RoomEvent.TrackUnpublished, (pub, p) => {
        this.log(`trackUnpublished:${p.identity}:${pub.source}`);
        refresh();
      })
      .on(RoomEvent.TrackSubscribed, (track, _pub, p) => {
        this.log(`trackSubscribed:${p.identity}:${track.source}`);
        refresh();
      })
      .on(RoomEvent.TrackUnsubscribed, refresh)
      .on(RoomEvent.TrackSubscriptionFailed, (_sid, p, e) => this.log(`trackSubscriptionFailed:${p.identity}:${e.codec}`))
      .on(RoomEvent.TrackMuted, (pub, p) => {
        this.log(`trackMuted:${p.identity}:${pub.source}`);
        refresh();
      })
      .on(RoomEvent.TrackUnmuted, (pub, p) => {
        this.log(`trackUnmuted:${p.identity}:${pub.source}`);
        refresh();
      })
      .on(RoomEvent.LocalTrackPublished, (pub) => {
        this.log(`localTrackPublished:${pub.source}`);
        refresh();
      })
      .on(RoomEvent.LocalTrackUnpublished, (pub) => {
        this.log(`localTrackUnpublished:${pub.source}`);
        refresh();
      })
      .on(RoomEvent.ActiveSpeakersChanged, (speakers) => {
        this.speakers = speakers.map((p) => p.identity);
      })
      .on(RoomEvent.DataReceived, (payload, p, topic) => {
        if (topic !== CHAT_TOPIC) return;
        const text = new TextDecoder().decode(payload);
        this.log(`chat:${p?.identity ?? ""}`);
        this.addChat(p?.identity ?? "", p?.name || p?.identity || "server", text, false);
      })
      .on(RoomEvent.AudioPlaybackStatusChanged, (can) => {
        this.log(`audioPlayback:${can}`);
        this.canPlaybackAudio = can;
      })
      .on(RoomEvent.ActiveDeviceChanged, (kind, id) => this.log(`activeDevice:${kind}:${id}`))
      .on(RoomEvent.MediaDevicesError, (e) => this.fail(e))
      .on(RoomEvent.Disconnected, (reason) => {
        this.log(`disconnected:${reason.code ?? ""}:${reason.message}`);
        this.stopLevels();
        this.ended = reason;
        refresh();
      });
  }

  /** Rebuilds tiles, people and audio from the room. */
  refresh(): void {
    const r = this.room;
    const lp = r.localParticipant;
    const tiles: Tile[] = [];
    const people: Person[] = [];
    const audio: AudioEntry[] = [];
    const connected = this.state !== ConnectionState.Disconnected;
    const localCam = lp.getTrackPublication(TrackSource.Camera);
    const localScreen = lp.getTrackPublication(TrackSource.ScreenShare);
    const localMic = lp.getTrackPublication(TrackSource.Microphone);
    this.cameraOn = localCam !== undefined && !localCam.isMuted;
    this.micOn = localMic !== undefined && !localMic.isMuted;
    this.screenOn = localScreen !== undefined;
    this.e2ee = r.isE2EEEnabled;
    if (connected) {
      const name = lp.name || lp.identity;
      const camTrack = localCam?.track;
      tiles.push({
        id: "local-camera",
        identity: lp.identity,
        name,
        source: "camera",
        local: true,
        track: camTrack instanceof LocalVideoTrack ? camTrack : undefined,
        muted: !this.cameraOn,
      });
      const screenTrack = localScreen?.track;
      if (screenTrack instanceof LocalVideoTrack) {
        tiles.push({ id: "local-screen", identity: lp.identity, name, source: "screen_share", local: true, track: screenTrack, muted: false });
      }
      people.push(this.person(lp, true));
    }
    for (const p of r.remoteParticipants.values()) {
      const name = p.name || p.identity;
      const cam = p.getTrackPublication(TrackSource.Camera);
      const camTrack = cam?.track;
      tiles.push({
        id: `cam-${p.sid}`,
        identity: p.identity,
        name,
        source: "camera",
        local: false,
        track: camTrack instanceof RemoteVideoTrack ? camTrack : undefined,
        muted: cam === undefined || cam.isMuted,
      });
      const screen = p.getTrackPublication(TrackSource.ScreenShare);
      if (screen !== undefined) {
        const t = screen.track;
        tiles.push({
          id: `screen-${screen.trackSid}`,
          identity: p.identity,
          name,
          source: "screen_share",
          local: false,
          track: t instanceof RemoteVideoTrack ? t : undefined,
          muted: screen.isMuted,
        });
      }
      for (const pub of p.audioTrackPublications) {
        if (pub.track instanceof RemoteAudioTrack) audio.push({ id: pub.trackSid, identity: p.identity, track: pub.track });
      }
      people.push(this.person(p, false));
    }
    this.tiles = tiles;
    this.people = people;
    this.audio = audio;
  }

  private person(p: Participant, local: boolean): Person {
    const mic = p.getTrackPublication(TrackSource.Microphone);
    const cam = p.getTrackPublication(TrackSource.Camera);
    return {
      identity: p.identity,
      name: p.name || p.identity,
      local,
      micOn: mic !== undefined && !mic.isMuted,
      cameraOn: cam !== undefined && !cam.isMuted,
      screenOn: p.getTrackPublication(TrackSource.ScreenShare) !== undefined,
      reconnecting: p.isReconnecting,
      quality: p.connectionQuality,
    };
  }

  /** Connects and publishes what the lobby asked for. */
  async join(server: string, token: string, req: JoinRequest): Promise<void> {
    const r = this.room;
    if (this.keyProvider !== undefined && req.passphrase !== "") {
      await this.keyProvider.setKey(req.passphrase);
      await r.setE2EEEnabled(true);
      this.log("e2ee:on");
    }
    if (req.cameraDevice !== undefined) await r.switchActiveDevice("videoinput", req.cameraDevice);
    if (req.micDevice !== undefined) await r.switchActiveDevice("audioinput", req.micDevice);
    if (req.speakerDevice !== undefined) await r.switchActiveDevice("audiooutput", req.speakerDevice);
    await r.connect(server, token);
    this.refresh();
    this.startLevels();
    // A camera or microphone that cannot be captured does not stop the join: say so and go on.
    const notices: string[] = [];
    if (req.camera) {
      try {
        if (req.preview !== undefined && req.preview.mediaStreamTrack.readyState === "live") {
          await r.localParticipant.publishTrack(req.preview, { name: "camera" });
        } else {
          await r.localParticipant.setCameraEnabled(true);
        }
      } catch (e) {
        if (!(e instanceof DeviceError)) throw e;
        this.fail(e);
        notices.push(errorMessage(e));
      }
    } else {
      req.preview?.stop();
    }
    if (req.mic) {
      try {
        await r.localParticipant.setMicrophoneEnabled(true);
      } catch (e) {
        if (!(e instanceof DeviceError)) throw e;
        this.fail(e);
        notices.push(errorMessage(e));
      }
    }
    if (notices.length > 0) this.notice = notices.join(" ");
    this.refresh();
  }

  /** Camera: publish it, or mute / unmute it once published. */
  async toggleCamera(): Promise<void> {
    const lp = this.room.localParticipant;
    const pub = lp.getTrackPublication(TrackSource.Camera);
    if (pub === undefined) await lp.setCameraEnabled(true);
    else if (pub.isMuted) await pub.unmute();
    else await pub.mute();
    this.log(`camera:${this.room.localParticipant.getTrackPublication(TrackSource.Camera)?.isMuted === false ? "on" : "off"}`);
    this.refresh();
  }

  /** Microphone: publish it, or mute / unmute it once published. */
  async toggleMic(): Promise<void> {
    const lp = this.room.localParticipant;
    const pub = lp.getTrackPublication(TrackSource.Microphone);
    if (pub === undefined) await lp.setMicrophoneEnabled(true);
    else if (pub.isMuted) await pub.unmute();
    else await pub.mute();
    this.refresh();
  }

  /** Starts or stops sharing the screen. */
  async toggleScreen(): Promise<void> {
    const lp = this.room.localParticipant;
    const on = lp.getTrackPublication(TrackSource.ScreenShare) === undefined;
    await lp.setScreenShareEnabled(on);
    this.refresh();
  }

  /** Sends a chat message to everyone. */
  async sendChat(text: string): Promise<void> {
    const t = text.trim();
    if (t === "") return;
    await this.room.localParticipant.publishData(new TextEncoder().encode(t), { topic: CHAT_TOPIC, reliable: true });
    const lp = this.room.localParticipant;
    this.addChat(lp.identity, lp.name || lp.identity, t, true);
  }

  private addChat(from: string, name: string, text: string, local: boolean): void {
    this.chat = [...this.chat, { id: this.nextChatId++, from, name, text, at: Date.now(), local }].slice(-200);
    if (!this.chatOpen && !local) this.unread++;
  }

  /** Opens or closes the chat panel. */
  setChatOpen(open: boolean): void {
    this.chatOpen = open;
    if (open) this.unread = 0;
  }

  /** Changes the E2EE passphrase (everyone must use the same one). */
  async setPassphrase(passphrase: string): Promise<void> {
    if (this.keyProvider === undefined) return;
    await this.keyProvider.setKey(passphrase);
    this.log("e2ee:key");
  }

  /** Leaves the meeting. */
  async leave(): Promise<void> {
    await this.room.disconnect();
  }

  /** Samples the decoded level of every remote audio track (peak with decay) for the tiles. */
  private startLevels(): void {
    this.stopLevels();
    this.levelTimer = setInterval(() => {
      const next: Record<string, number> = {};
      for (const a of this.audio) {
        const prev = this.levels[a.identity] ?? 0;
        next[a.identity] = Math.max(a.track.level, prev * 0.85, next[a.identity] ?? 0);
      }
      this.levels = next;
    }, 100);
  }

  private stopLevels(): void {
    if (this.levelTimer !== undefined) clearInterval(this.levelTimer);
    this.levelTimer = undefined;
  }
}
