/**
 * Colours of the explain views: a diverging scale from orange (label 0, negative) through white
 * to blue (label 1, positive) — the Okabe–Ito pair, told apart with every common colour-vision
 * deficiency, as TensorFlow Playground's orange/blue is.
 */
export const ORANGE: readonly [number, number, number] = [230, 159, 0];
export const BLUE: readonly [number, number, number] = [0, 114, 178];
export const CSS = { orange: 'rgb(230 159 0)', blue: 'rgb(0 114 178)', orangeDark: 'rgb(168 100 0)', blueDark: 'rgb(0 78 125)' } as const;

/** RGBA for t ∈ [−1, 1]: orange at −1, white at 0, blue at 1; `strength` < 1 keeps it pale (a background). */
export function diverging(t: number, strength = 1): [number, number, number] {
  const v = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0)) * strength;
  const [r, g, b] = v < 0 ? ORANGE : BLUE;
  const a = Math.abs(v);
  return [Math.round(255 + (r - 255) * a), Math.round(255 + (g - 255) * a), Math.round(255 + (b - 255) * a)];
}

/** Paints res × res values (rows from the top) through `scale` into a res × res canvas. */
export function paintGrid(canvas: HTMLCanvasElement | OffscreenCanvas, values: Float32Array, res: number, scale: (v: number) => number, strength = 1): void {
  if (canvas.width !== res) canvas.width = res;
  if (canvas.height !== res) canvas.height = res;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) return;
  const image = ctx.createImageData(res, res);
  for (let i = 0; i < res * res; i++) {
    const [r, g, b] = diverging(scale(values[i]!), strength);
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}
