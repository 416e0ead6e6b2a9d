/**
 * GET /cutouts/:id.png?index=&stretch=&zoom=: the new | ref | sub stamps of one
 * detection side by side as a grayscale PNG, each stamp stretched on its own.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { CutoutTriplet } from "../cutouts_source.ts";
import type { ResolvedDeps } from "../deps.ts";
import { encodeGrayPng } from "../png.ts";
import { Problem } from "../problem.ts";
import { type StretchName, stretchToBytes } from "../stretch.ts";
import { parseOr400, parseQuery, queryInt } from "../validate.ts";

/** Gray level of the gutter between stamps. */
const GUTTER_LEVEL = 128;

/**
 * The triplet as one 8-bit image: new | ref | sub, `gap` pixels of mid-gray
 * between stamps, every pixel repeated `zoom` x `zoom`, the stamps' first row at
 * the bottom (FITS y up, PNG rows top down).
 */
export function tripletImage(
  t: CutoutTriplet,
  stretch: StretchName,
  zoom = 1,
  gap = 2,
): { width: number; height: number; pixels: Uint8Array } {
  const s = t.size;
  const stamps = [t.new, t.ref, t.sub].map((d) => stretchToBytes(d, stretch));
  const width = (3 * s + 2 * gap) * zoom, height = s * zoom;
  const pixels = new Uint8Array(width * height).fill(GUTTER_LEVEL);
  stamps.forEach((bytes, k) => {
    const x0 = k * (s + gap) * zoom;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const v = bytes[y * s + x];
        for (let dy = 0; dy < zoom; dy++) {
          const row = (s - 1 - y) * zoom + dy;
          pixels.fill(v, row * width + x0 + x * zoom, row * width + x0 + (x + 1) * zoom);
        }
      }
    }
  });
  return { width, height, pixels };
}

/** The cutout routes. */
export function cutoutRoutes(deps: ResolvedDeps): Hono {
  const app = new Hono();
  const query = z.object({
    index: queryInt.pipe(z.int().min(0).max(1_000_000)).optional(),
    stretch: z.enum(["zscale", "asinh"]).optional(),
    zoom: queryInt.pipe(z.int().min(1).max(8)).optional(),
  }).strict();
  app.get("/cutouts/:file{[^/]+\\.png}", async (c) => {
    const { id } = parseOr400(
      z.object({ id: z.uuid() }),
      { id: c.req.param("file").slice(0, -".png".length) },
      "path",
    );
    const q = parseQuery(c, query);
    const index = q.index ?? 0;
    const found = await deps.cutouts(id, index);
    if (!found.found) throw Problem.notFound(`no cutouts ${id}`);
    if (!found.triplet) {
      throw Problem.notFound(`cutouts ${id} has ${found.count} stamps; no index ${index}`);
    }
    const image = tripletImage(found.triplet, q.stretch ?? "zscale", q.zoom ?? 1);
    const png = encodeGrayPng(image.width, image.height, image.pixels);
    return c.body(png.buffer as ArrayBuffer, 200, {
      "content-type": "image/png",
      // products never change under their id
      "cache-control": "public, max-age=31536000, immutable",
    });
  });
  return app;
}
