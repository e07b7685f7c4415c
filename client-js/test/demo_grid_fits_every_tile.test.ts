import { describe, expect, it } from "vitest";

import { gridLayout } from "../demo/lib/layout.js";

describe("the demo's video grid", () => {
  it("puts one tile alone, as large as the area allows", () => {
    expect(gridLayout(1, 1260, 600, 10)).toEqual({ cols: 1, tileWidth: 800 });
  });

  it("puts three tiles of a wide area side by side, and fits them in the height", () => {
    const l = gridLayout(3, 1260, 600, 10);
    expect(l.cols).toBe(3);
    expect((l.tileWidth * 3) / 4).toBeLessThanOrEqual(600);
  });

  it("stacks tiles on a narrow screen", () => {
    expect(gridLayout(3, 360, 1200, 10).cols).toBe(1);
  });

  it("never overflows either side", () => {
    for (let n = 1; n <= 16; n++) {
      const { cols, tileWidth } = gridLayout(n, 1000, 500, 10);
      const rows = Math.ceil(n / cols);
      expect(cols * tileWidth + (cols - 1) * 10).toBeLessThanOrEqual(1000);
      expect(rows * ((tileWidth * 3) / 4) + (rows - 1) * 10).toBeLessThanOrEqual(500);
    }
  });

  it("has nothing to lay out in an empty area", () => {
    expect(gridLayout(0, 100, 100)).toEqual({ cols: 1, tileWidth: 0 });
    expect(gridLayout(2, 0, 0)).toEqual({ cols: 1, tileWidth: 0 });
  });
});
