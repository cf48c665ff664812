import type { PointerEvent } from 'react';

/** Where a pointer event falls on a square drawing canvas of `size` canvas pixels (CSS scaling undone). */
export function padPoint(event: PointerEvent<HTMLCanvasElement>, size: number): { x: number; y: number } {
  const box = event.currentTarget.getBoundingClientRect();
  return { x: ((event.clientX - box.left) / box.width) * size, y: ((event.clientY - box.top) / box.height) * size };
}

/** One round-capped white pen stroke, as the digit pads draw ink on black. */
export function drawInk(ctx: CanvasRenderingContext2D, from: { x: number; y: number }, to: { x: number; y: number }, width: number): void {
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = width;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x, to.y);
  ctx.stroke();
}
