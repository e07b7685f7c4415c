/**
 * The video grid's layout: how many columns, and how wide each tile (aspect 4:3), so that `n`
 * tiles fit the area with the largest tiles.
 */
export function gridLayout(n: number, width: number, height: number, gap = 10, aspect = 4 / 3): { cols: number; tileWidth: number } {
  if (n <= 0 || width <= 0 || height <= 0) return { cols: 1, tileWidth: 0 };
  let best = { cols: 1, tileWidth: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const byWidth = (width - gap * (cols - 1)) / cols;
    const byHeight = ((height - gap * (rows - 1)) / rows) * aspect;
    const w = Math.floor(Math.min(byWidth, byHeight));
    if (w > best.tileWidth) best = { cols, tileWidth: w };
  }
  return best;
}
