// How an exported weight derives from the model's tf.js variables. An inference export bakes the numbers in;
// the training graph (../training) instead emits the derivation as ONNX nodes over the variables fed as
// inputs (layout Transpose, BatchNorm folded into the conv by Mul/Add), so the variables stay the source of
// truth and the backward graph returns each variable's gradient directly. (Doing the fold and layout in JS
// each step, with the chain rule back in JS, cost ~17 ms of a ~50 ms MobileNetV2 step here.)
import type { OnnxGraph } from './onnx-graph.ts';

export interface Derivation {
  /** names of the tf.js variables the value reads */
  readonly variables: readonly string[];
  /** emits the nodes computing the value; `input(variable)` names the value fed for a variable */
  emit(g: OnnxGraph, input: (variable: string) => string): string;
  /** set when the value is another one (of `shape`) with its axes permuted: layouts compose instead of stacking */
  readonly layout?: { of: Derivation; shape: number[]; perm: number[] };
}

/** A weight that may derive from variables: its export-time numbers plus, when it does, how. */
export interface DerivedData {
  data: Float32Array;
  dims: number[];
  derivation?: Derivation;
}

/** A variable's value itself. */
export function variable(name: string): Derivation {
  return { variables: [name], emit: (_g, input) => input(name) };
}

/**
 * The same weight (of `shape`) with its axes permuted: result axis k is axis perm[k]. Two relayouts make one;
 * a permutation that only moves unit axes keeps the numbers in order and is emitted as a Reshape.
 */
export function relaid(d: Derivation, shape: number[], perm: number[]): Derivation {
  if (d.layout) return relaid(d.layout.of, d.layout.shape, perm.map((p) => d.layout!.perm[p]));
  if (perm.every((p, k) => p === k)) return d;
  const moved = perm.filter((p) => shape[p] !== 1);
  const inOrder = moved.every((p, k) => k === 0 || p > moved[k - 1]);
  return {
    variables: d.variables,
    layout: { of: d, shape, perm },
    emit: (g, input) =>
      inOrder
        ? g.add('Reshape', [d.emit(g, input), g.addInt64('relaid', perm.map((p) => shape[p]))], {}, 'relaid')
        : g.add('Transpose', [d.emit(g, input)], { perm: { ints: perm } }, 'relaid'),
  };
}

/** How a weight computed from others is emitted; undefined when no part derives from a variable. */
export function derive(parts: DerivedData[], emit: (g: OnnxGraph, parts: string[]) => string): Derivation | undefined {
  if (!parts.some((p) => p.derivation)) return undefined;
  return {
    variables: [...new Set(parts.flatMap((p) => p.derivation?.variables ?? []))],
    emit: (g, input) => emit(g, parts.map((p) => p.derivation?.emit(g, input) ?? g.addFloat('constant', p.dims, p.data))),
  };
}

/**
 * A weight computed from other weights: `value` gives its export-time numbers from theirs, `emit` the ONNX
 * nodes computing it from theirs (constant parts as initializers). No derivation when no part has one.
 */
export function combine(
  parts: DerivedData[],
  value: (v: Float32Array[]) => Float32Array,
  emit: (g: OnnxGraph, parts: string[]) => string,
  dims: number[],
): DerivedData {
  return { data: value(parts.map((p) => p.data)), dims, derivation: derive(parts, emit) };
}
