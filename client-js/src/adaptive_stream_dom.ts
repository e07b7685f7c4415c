/**
 * The DOM side of adaptive stream: watches an element's size (`ResizeObserver`) and whether it
 * is in the viewport (`IntersectionObserver`), and the page's visibility (`document.hidden`).
 * Size the elements with CSS: a `<canvas>` without a CSS size takes the size of the frames drawn
 * into it, which would then decide the size asked for.
 */

import type { ElementObservation } from "./adaptive_stream.js";

/** Reports `element`'s size and viewport state now and on every change; returns a stop function (which reports `undefined`). */
export function watchElement(element: HTMLElement, report: (o: ElementObservation | undefined) => void): () => void {
  let width = element.clientWidth;
  let height = element.clientHeight;
  let inViewport = true;
  const send = (): void => report({ width, height, inViewport });
  const resize =
    typeof ResizeObserver === "function"
      ? new ResizeObserver((entries) => {
          for (const e of entries) {
            width = e.contentRect.width;
            height = e.contentRect.height;
          }
          send();
        })
      : undefined;
  const intersection =
    typeof IntersectionObserver === "function"
      ? new IntersectionObserver((entries) => {
          for (const e of entries) inViewport = e.isIntersecting;
          send();
        })
      : undefined;
  resize?.observe(element);
  intersection?.observe(element);
  send();
  return () => {
    resize?.disconnect();
    intersection?.disconnect();
    report(undefined);
  };
}

/** Reports whether the page is hidden now and on every change; returns a stop function. */
export function watchDocument(report: (hidden: boolean) => void): () => void {
  if (typeof document === "undefined") return () => undefined;
  const onChange = (): void => report(document.hidden);
  document.addEventListener("visibilitychange", onChange);
  onChange();
  return () => document.removeEventListener("visibilitychange", onChange);
}

/** `devicePixelRatio`, or 1 outside a browser. */
export function screenPixelDensity(): number {
  return typeof devicePixelRatio === "number" && devicePixelRatio > 0 ? devicePixelRatio : 1;
}
