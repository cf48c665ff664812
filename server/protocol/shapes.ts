import type { DatasetName, LayerSpec, ModelSpec, SpecProblem } from './spec';

/**
 * Shape inference for a spec's network, without TensorFlow.js: what each layer outputs, how many
 * parameters it has, and what cannot work (tied to the field to fix). Shared by the validator,
 * the editor (inline problems on a half-edited spec) and the model builder, so all three agree.
 *
 * Inputs: image datasets are height × width × 1; point datasets are [features]. A dense layer on
 * an image flattens it first (as if a Flatten layer stood before it). The output layer is dense:
 * 1 sigmoid unit for two classes, one softmax unit per class otherwise.
 */
export type Shape = number[];

export interface LayerShape {
  /** Output shape of the layer (after an implicit flatten, for dense layers on images). */
  shape: Shape;
  params: number;
  /** A dense layer whose input is an image: the builder flattens before it. */
  flattensInput: boolean;
}

export interface ShapeReport {
  input: Shape;
  layers: LayerShape[];
  /** Units of the output layer and how many classes it tells apart. */
  outputUnits: number;
  classes: number;
  params: number;
  problems: SpecProblem[];
}

/** Image datasets and their input shape. */
const IMAGE_INPUT: Partial<Record<DatasetName, Shape>> = { mnist: [28, 28, 1] };
const CLASSES: Partial<Record<DatasetName, number>> = { mnist: 10 };

export function inputShape(spec: Pick<ModelSpec, 'dataset' | 'features'>): Shape {
  return IMAGE_INPUT[spec.dataset.name] ?? [spec.features.length];
}

export function classCount(spec: Pick<ModelSpec, 'dataset'>): number {
  return CLASSES[spec.dataset.name] ?? 2;
}

const size = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

export function inferShapes(spec: Pick<ModelSpec, 'dataset' | 'features' | 'layers'>): ShapeReport {
  const problems: SpecProblem[] = [];
  const input = inputShape(spec);
  const image = input.length === 3;
  let shape = input;
  let params = 0;
  const layers: LayerShape[] = spec.layers.map((layer: LayerSpec, i) => {
    const at = (field: string) => `layers.${i}.${field}`;
    let flattensInput = false;
    let own = 0;
    switch (layer.type) {
      case 'dense': {
        flattensInput = shape.length === 3;
        const inputs = size(shape);
        own = inputs * layer.units + layer.units;
        shape = [layer.units];
        break;
      }
      case 'conv2d':
      case 'maxpool': {
        const name = layer.type === 'conv2d' ? 'A convolution' : 'Max pooling';
        if (shape.length !== 3) {
          problems.push({
            path: at('type'),
            message: image ? `${name} needs an image input: put it before any dense or flatten layer` : `${name} needs an image dataset (MNIST)`,
          });
          break; // the shape stays; later layers are still checked
        }
        const [h, w, c] = shape as [number, number, number];
        if (layer.type === 'conv2d') {
          if (layer.kernelSize > Math.min(h, w)) problems.push({ path: at('kernelSize'), message: `The kernel is larger than its ${h}×${w} input` });
          own = layer.kernelSize * layer.kernelSize * c * layer.filters + layer.filters;
          shape = [h, w, layer.filters];
        } else {
          if (layer.poolSize > Math.min(h, w)) {
            problems.push({ path: at('poolSize'), message: `The pool is larger than its ${h}×${w} input` });
            break;
          }
          shape = [Math.floor(h / layer.poolSize), Math.floor(w / layer.poolSize), c];
        }
        break;
      }
      case 'flatten':
        shape = [size(shape)];
        break;
      case 'dropout':
        break;
    }
    params += own;
    return { shape: [...shape], params: own, flattensInput };
  });
  const classes = classCount(spec);
  const outputUnits = classes === 2 ? 1 : classes;
  params += size(shape) * outputUnits + outputUnits;
  return { input, layers, outputUnits, classes, params, problems };
}
