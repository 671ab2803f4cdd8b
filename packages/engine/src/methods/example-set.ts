// Training examples as the methods see them: the frozen prefix's cached activations (one array per
// augmentation view) plus labels, and the batch tensors cut from them.
import * as tf from '@tensorflow/tfjs';

export interface ExampleSet {
  /** views[v] holds every example's activation for view v, row-major [count x prod(shape)]; view 0 is un-augmented. */
  views: Float32Array[];
  /** per-example activation shape, e.g. [3, 3, 160] or [1280] */
  shape: number[];
  count: number;
  /** class index per example, or null when the set is unlabelled (DANN's target domain) */
  labels: Int32Array | null;
  /**
   * features: 'block_ends' with trainable blocks: the frozen blocks' pooled ends per view [count × dim], which
   * the head reads before the suffix's pooled output (backbones/block-features.ts)
   */
  side?: { views: Float32Array[]; dim: number };
  /** the last view (of `views` and `side.views`) holds each example's horizontal mirror of view 0 (flipViews) */
  mirror?: boolean;
}

/** The view holding the mirrors of a set that has them. */
export function mirrorViewOf(set: ExampleSet): number {
  if (!set.mirror) throw new Error('mirrorViewOf on a set without mirrored views');
  return set.views.length - 1;
}

/** `a` then `b`, one typed array. */
export function joined<T extends Float32Array | Int32Array>(a: T, b: T): T {
  const out = new (a.constructor as new (n: number) => T)(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function rowSize(set: ExampleSet): number {
  return set.shape.reduce((a, b) => a * b, 1);
}

/** Batch tensor [indices.length, ...shape]; `viewOf(i)` picks the augmentation view for example i. */
export function batchInputs(set: ExampleSet, indices: ArrayLike<number>, viewOf: (i: number) => number = () => 0): tf.Tensor {
  const size = rowSize(set);
  const buf = new Float32Array(indices.length * size);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j];
    buf.set(set.views[viewOf(i)].subarray(i * size, (i + 1) * size), j * size);
  }
  return tf.tensor(buf, [indices.length, ...set.shape]);
}

/** One-hot labels [indices.length, numClasses] of a labelled set. */
export function batchLabels(set: ExampleSet, indices: ArrayLike<number>, numClasses: number): tf.Tensor2D {
  if (!set.labels) throw new Error('batchLabels on an unlabelled example set');
  const buf = new Float32Array(indices.length * numClasses);
  for (let j = 0; j < indices.length; j++) buf[j * numClasses + set.labels[indices[j]]] = 1;
  return tf.tensor2d(buf, [indices.length, numClasses]);
}

/**
 * View 0 of two labelled sets of one layout, `a`'s examples then `b`'s, and their mirrors when both have them:
 * what a linear probe reads of both.
 */
export function joinedPlainViews(a: ExampleSet, b: ExampleSet): ExampleSet {
  const mirror = !!(a.mirror && b.mirror);
  const pick = (x: Float32Array[], y: Float32Array[], mx: number, my: number) => [joined(x[0], y[0]), ...(mirror ? [joined(x[mx], y[my])] : [])];
  const [ma, mb] = mirror ? [mirrorViewOf(a), mirrorViewOf(b)] : [0, 0];
  return {
    views: pick(a.views, b.views, ma, mb),
    shape: a.shape,
    count: a.count + b.count,
    labels: joined(a.labels!, b.labels!),
    ...(a.side && b.side ? { side: { views: pick(a.side.views, b.side.views, ma, mb), dim: a.side.dim } } : {}),
    ...(mirror ? { mirror } : {}),
  };
}

/** The side features [indices.length, dim] of a batch (same views as batchInputs), or null when the set has none. */
export function batchSide(set: ExampleSet, indices: ArrayLike<number>, viewOf: (i: number) => number = () => 0): tf.Tensor2D | null {
  if (!set.side) return null;
  const { dim, views } = set.side;
  const buf = new Float32Array(indices.length * dim);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j];
    buf.set(views[viewOf(i)].subarray(i * dim, (i + 1) * dim), j * dim);
  }
  return tf.tensor2d(buf, [indices.length, dim]);
}

/** What the head reads: the side features (if any) followed by the suffix's pooled features. */
export function headInput(side: tf.Tensor2D | null, features: tf.Tensor2D): tf.Tensor2D {
  return side ? tf.concat([side, features], 1) : features;
}
