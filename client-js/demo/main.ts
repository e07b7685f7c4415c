/**
 * Demo page: join with a token, toggle camera and microphone, see everyone. Query parameters:
 * `server` (default: this page's origin), `token`, `autojoin=1`, `camera=1`, `mic=1`.
 * `window.dtDemo` exposes the room and an event log for the browser test.
 *
 * `adaptive=1` turns on adaptive stream. `e2ee=PASSPHRASE` encrypts media end to end with that
 * passphrase (key index 0); `window.dtDemo.keyProvider` rotates it.
 *
 * Test hook: `relayPort=N` sends every WebTransport session to port N of the same host (a UDP
 * relay the browser test cuts to simulate a network outage).
 */

import {
  ConnectionState,
  ExternalE2EEKeyProvider,
  RemoteVideoTrack,
  webTransportFactory,
  Room,
  RoomEvent,
  TrackKind,
  TrackSource,
  type RemoteParticipant,
  type RemoteTrack,
  type SessionFactory,
} from "../src/index.js";

/** What the browser test reads. */
export interface DemoHandle {
  room: Room;
  /** The E2EE keys, with `e2ee=`. */
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

function el<T extends HTMLElement>(id: string, type: new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`#${id} missing`);
  return e;
}

const params = new URLSearchParams(location.search);
const serverInput = el("server", HTMLInputElement);
const tokenInput = el("token", HTMLInputElement);
const cameraButton = el("camera", HTMLButtonElement);
const micButton = el("mic", HTMLButtonElement);
const leaveButton = el("leave", HTMLButtonElement);
const status = el("status", HTMLDivElement);
const grid = el("grid", HTMLDivElement);
serverInput.value = params.get("server") ?? location.origin;
tokenInput.value = params.get("token") ?? "";

/** The `relayPort` test hook: every session's URL with its port replaced. */
function relayedFactory(port: string | null): SessionFactory | undefined {
  if (port === null) return undefined;
  return (url, hashes) => {
    const u = new URL(url);
    u.port = port;
    return webTransportFactory(u.toString(), hashes);
  };
}

const sessionFactory = relayedFactory(params.get("relayPort"));
const passphrase = params.get("e2ee");
const keyProvider = passphrase === null ? undefined : new ExternalE2EEKeyProvider();
const room = new Room({
  clientDetail: "dark-tower demo",
  adaptiveStream: params.get("adaptive") === "1",
  ...(sessionFactory === undefined ? {} : { sessionFactory }),
  ...(keyProvider === undefined ? {} : { e2ee: { keyProvider } }),
});
const handle: DemoHandle = { room, keyProvider, events: [], error: undefined };
window.dtDemo = handle;

function log(entry: string): void {
  handle.events.push(entry);
}

function tile(id: string, label: string, media: HTMLElement): void {
  document.getElementById(id)?.remove();
  const div = document.createElement("div");
  div.className = "tile";
  div.id = id;
  const caption = document.createElement("div");
  caption.className = "label";
  caption.textContent = label;
  div.append(media, caption);
  grid.append(div);
}

function showRemote(track: RemoteTrack, participant: RemoteParticipant): void {
  const id = `track-${track.sid ?? ""}`;
  if (track instanceof RemoteVideoTrack) {
    const canvas = document.createElement("canvas");
    canvas.dataset.remoteIdentity = participant.identity;
    canvas.dataset.trackSid = track.sid ?? "";
    track.attach(canvas);
    tile(id, `${participant.name || participant.identity} (${track.source})`, canvas);
  } else if (track.kind === TrackKind.Audio) {
    const audio = track.attach();
    audio.dataset.remoteIdentity = participant.identity;
    audio.id = id;
    document.body.append(audio);
  }
}

room
  .on(RoomEvent.ConnectionStateChanged, (s) => {
    status.textContent = s;
    log(`state:${s}`);
    const connected = s === ConnectionState.Connected;
    cameraButton.disabled = !connected;
    micButton.disabled = !connected;
    leaveButton.disabled = !connected;
  })
  .on(RoomEvent.Reconnecting, () => log("reconnecting"))
  .on(RoomEvent.Reconnected, () => log("reconnected"))
  .on(RoomEvent.ParticipantReconnecting, (p) => log(`participantReconnecting:${p.identity}`))
  .on(RoomEvent.ParticipantReconnected, (p) => log(`participantReconnected:${p.identity}`))
  .on(RoomEvent.ConnectionQualityChanged, (q, p) => log(`connectionQuality:${p.identity}:${q}`))
  .on(RoomEvent.EncryptionError, (e, p) => log(`encryptionError:${p?.identity ?? ""}:${e.kind}`))
  .on(RoomEvent.ParticipantConnected, (p) => log(`participantConnected:${p.identity}`))
  .on(RoomEvent.ParticipantDisconnected, (p) => log(`participantDisconnected:${p.identity}`))
  .on(RoomEvent.TrackPublished, (pub, p) => log(`trackPublished:${p.identity}:${pub.source}`))
  .on(RoomEvent.TrackUnpublished, (pub, p) => {
    log(`trackUnpublished:${p.identity}:${pub.source}`);
    document.getElementById(`track-${pub.trackSid}`)?.remove();
  })
  .on(RoomEvent.TrackSubscribed, (track, _pub, p) => {
    log(`trackSubscribed:${p.identity}:${track.source}`);
    showRemote(track, p);
  })
  .on(RoomEvent.TrackUnsubscribed, (track) => {
    track.detach();
    document.getElementById(`track-${track.sid ?? ""}`)?.remove();
  })
  .on(RoomEvent.LocalTrackPublished, (pub) => {
    log(`localTrackPublished:${pub.source}`);
    labelButtons();
    if (pub.kind === TrackKind.Video) tile("local-video", "you", pub.track.attach());
  })
  .on(RoomEvent.LocalTrackUnpublished, (pub) => {
    log(`localTrackUnpublished:${pub.source}`);
    labelButtons();
    if (pub.kind === TrackKind.Video) document.getElementById("local-video")?.remove();
  })
  .on(RoomEvent.Disconnected, (reason) => {
    log(`disconnected:${reason.code ?? ""}:${reason.message}`);
    grid.replaceChildren();
  });

function fail(e: unknown): void {
  handle.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  status.textContent = `error: ${handle.error}`;
  log(`error:${handle.error}`);
}

async function join(): Promise<void> {
  if (keyProvider !== undefined && passphrase !== null) {
    await keyProvider.setKey(passphrase);
    await room.setE2EEEnabled(true);
    log("e2ee:on");
  }
  await room.connect(serverInput.value, tokenInput.value);
  if (params.get("camera") === "1") await room.localParticipant.setCameraEnabled(true);
  if (params.get("mic") === "1") await room.localParticipant.setMicrophoneEnabled(true);
}

el("join", HTMLFormElement).addEventListener("submit", (ev) => {
  ev.preventDefault();
  join().catch(fail);
});
function labelButtons(): void {
  const lp = room.localParticipant;
  cameraButton.textContent = lp.getTrackPublication(TrackSource.Camera) ? "Camera off" : "Camera on";
  micButton.textContent = lp.getTrackPublication(TrackSource.Microphone) ? "Microphone off" : "Microphone on";
}
cameraButton.addEventListener("click", () => {
  const on = room.localParticipant.getTrackPublication(TrackSource.Camera) === undefined;
  room.localParticipant.setCameraEnabled(on).catch(fail);
});
micButton.addEventListener("click", () => {
  const on = room.localParticipant.getTrackPublication(TrackSource.Microphone) === undefined;
  room.localParticipant.setMicrophoneEnabled(on).catch(fail);
});
leaveButton.addEventListener("click", () => {
  room.disconnect().catch(fail);
});
if (params.get("autojoin") === "1") join().catch(fail);
