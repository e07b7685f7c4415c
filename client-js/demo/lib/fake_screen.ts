/**
 * A stand-in for a screen capture: an animated canvas (320x240 at 15 fps) as a `MediaStream`.
 * Headless Chromium cannot capture a screen; with the `fakeScreen=1` flag the room's
 * `getDisplayMedia` option returns this, so screen sharing runs the same publish path.
 */

export function canvasScreen(width = 320, height = 240, frameRate = 15): Promise<MediaStream> {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (ctx === null) return Promise.reject(new Error("no 2D context"));
  const stream = canvas.captureStream(frameRate);
  const start = performance.now();
  const draw = (): void => {
    const t = (performance.now() - start) / 1000;
    ctx.fillStyle = "#1d3557";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#f1faee";
    ctx.font = "bold 20px system-ui, sans-serif";
    ctx.fillText("Shared screen", 16, 32);
    ctx.fillText(`${t.toFixed(1)} s`, 16, 60);
    const x = ((Math.sin(t * 2) + 1) / 2) * (width - 60);
    ctx.fillStyle = "#e63946";
    ctx.fillRect(x, height - 90, 60, 60);
  };
  draw();
  const timer = setInterval(draw, 1000 / frameRate);
  const [track] = stream.getVideoTracks();
  track?.addEventListener("ended", () => clearInterval(timer));
  // `stop()` fires no `ended`: stop drawing then too.
  const stop = track?.stop.bind(track);
  if (track !== undefined && stop !== undefined) {
    track.stop = () => {
      clearInterval(timer);
      stop();
    };
  }
  return Promise.resolve(stream);
}
