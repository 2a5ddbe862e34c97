/**
 * Pixel comparison of two screenshots (pngjs to decode, pixelmatch to compare). Screenshots of
 * different sizes are compared on the larger canvas: what only one of them covers counts as
 * differing, so a page that grew or shrank is a difference, not an error.
 */
import pixelmatch from "pixelmatch"
import { PNG } from "pngjs"

export interface PixelDiff {
  readonly width: number
  readonly height: number
  readonly differing: number
  /** Differing pixels as a percentage of the canvas. */
  readonly percent: number
  /** The diff image: differing pixels red over a faded copy of the first image. */
  readonly image: Uint8Array
}

/** `image` drawn on a `width`x`height` canvas; where it does not reach, `fill` (RGBA). */
const onCanvas = (image: PNG, width: number, height: number, fill: readonly [number, number, number, number]) => {
  const data = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = (y * width + x) * 4
      if (x < image.width && y < image.height) {
        const from = (y * image.width + x) * 4
        data.set(image.data.subarray(from, from + 4), at)
      } else data.set(fill, at)
    }
  }
  return data
}

/** Compares two PNGs; `threshold` is pixelmatch's per-pixel colour tolerance (0..1). Throws on a file that is not a PNG. */
export const comparePngs = (a: Uint8Array, b: Uint8Array, threshold = 0.1): PixelDiff => {
  const first = PNG.sync.read(Buffer.from(a))
  const second = PNG.sync.read(Buffer.from(b))
  const width = Math.max(first.width, second.width)
  const height = Math.max(first.height, second.height)
  // Opposite fills, so an area only one image covers differs whatever its colour.
  const left = onCanvas(first, width, height, [0, 0, 0, 255])
  const right = onCanvas(second, width, height, [255, 255, 255, 255])
  const output = new PNG({ width, height })
  const differing = pixelmatch(left, right, output.data, width, height, { threshold })
  const total = width * height
  return {
    width,
    height,
    differing,
    percent: total === 0 ? 0 : (differing / total) * 100,
    image: new Uint8Array(PNG.sync.write(output))
  }
}

/** Width and height of a PNG, from its header. */
export const pngSize = (bytes: Uint8Array): { readonly width: number; readonly height: number } => {
  const image = PNG.sync.read(Buffer.from(bytes))
  return { width: image.width, height: image.height }
}
