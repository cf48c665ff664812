/** Colours of the two classes of the 2-D tasks (as in TensorFlow Playground: orange 0, blue 1). */
export const CLASS_FILL: Record<number, string> = { 0: 'fill-orange-500', 1: 'fill-sky-600' };
export const CLASS_SWATCH: Record<number, string> = { 0: 'bg-orange-500', 1: 'bg-sky-600' };
