// How an exported weight derives from the model's tf.js variables. An inference export bakes the numbers in;
// the training graph (../training) takes every weight that depends on a trainable variable as a graph input,
// recomputes it from the variables' current values each step (layout change, BatchNorm folded into the conv)
// and maps the weight's gradient back onto the variables by the chain rule, here in JS.
import { transpose4d } from './layout.ts';

/** Current values of tf.js variables, by variable name. */
export type VariableValues = ReadonlyMap<string, Float32Array>;

export interface Derivation {
  /** names of the tf.js variables the value reads */
  readonly variables: readonly string[];
  value(vars: VariableValues): Float32Array;
  /** adds d(loss)/d(variable) for each variable into `grads`, given `d` = d(loss)/d(value) */
  backward(d: Float32Array, vars: VariableValues, grads: Map<string, Float32Array>): void;
}

/** A weight that may derive from variables: its export-time numbers plus, when it does, how. */
export interface DerivedData {
  data: Float32Array;
  derivation?: Derivation;
}

export function accumulate(grads: Map<string, Float32Array>, name: string, g: Float32Array): void {
  const sum = grads.get(name);
  if (!sum) grads.set(name, g);
  else for (let i = 0; i < g.length; i++) sum[i] += g[i];
}

/** A variable's value itself. */
export function variable(name: string): Derivation {
  return {
    variables: [name],
    value: (vars) => vars.get(name)!,
    backward: (d, _vars, grads) => accumulate(grads, name, Float32Array.from(d)),
  };
}

/** A 4-D variable of `shape` with its axes permuted (Keras kernel -> ONNX weight); see transpose4d. */
export function permutedVariable(name: string, shape: number[], perm: number[]): Derivation {
  return relaid(variable(name), shape, perm);
}

/**
 * A weight computed from other weights by `value` (its export-time numbers from theirs), with `vjp` giving
 * each part's gradient (null: none needed, e.g. statistics that do not train). No derivation when no part
 * derives from a variable.
 */
export function combine(
  parts: DerivedData[],
  value: (v: Float32Array[]) => Float32Array,
  vjp: (d: Float32Array, v: Float32Array[]) => (Float32Array | null)[],
): DerivedData {
  const data = value(parts.map((p) => p.data));
  if (!parts.some((p) => p.derivation)) return { data };
  // backward needs the parts' values of the same step: computed once per variable snapshot
  let last: { vars: VariableValues; values: Float32Array[] } | null = null;
  const values = (vars: VariableValues) => {
    if (last?.vars !== vars) last = { vars, values: parts.map((p) => (p.derivation ? p.derivation.value(vars) : p.data)) };
    return last.values;
  };
  return {
    data,
    derivation: {
      variables: [...new Set(parts.flatMap((p) => p.derivation?.variables ?? []))],
      value: (vars) => value(values(vars)),
      backward(d, vars, grads) {
        vjp(d, values(vars)).forEach((dp, k) => {
          if (dp) parts[k].derivation?.backward(dp, vars, grads);
        });
      },
    },
  };
}

/** The same weight laid out differently: a 4-D permutation of the value (and the inverse one of its gradient). */
export function relaid(d: Derivation, shape: number[], perm: number[]): Derivation {
  const inverse = perm.map((_, k) => perm.indexOf(k));
  const permutedShape = perm.map((p) => shape[p]);
  return {
    variables: d.variables,
    value: (vars) => transpose4d(d.value(vars), shape, perm),
    backward: (grad, vars, grads) => d.backward(transpose4d(grad, permutedShape, inverse), vars, grads),
  };
}
