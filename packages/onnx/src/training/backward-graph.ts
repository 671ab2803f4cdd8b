// Reverse-mode differentiation of an exported forward graph: walks its nodes backwards from the output and
// appends the nodes that compute d(output·dOutput)/d(param) for each param (a graph input), using the
// per-op rules of gradient-rules.ts. Only values that depend on a param get gradients.
import type { OnnxGraph } from '../export/onnx-graph.ts';
import { gradientRules, NoGradientRuleError, type Dims } from './gradient-rules.ts';

/**
 * Static shapes of every value of the forward graph, given those of its graph inputs (initializers know
 * theirs). Refuses (NoGradientRuleError) any op without a gradient rule.
 */
export function inferShapes(g: OnnxGraph, inputs: Map<string, Dims>): Map<string, Dims> {
  const shapes = new Map(inputs);
  for (const [name, init] of g.initializers) shapes.set(name, init.dims);
  for (const node of g.nodes) {
    const rule = gradientRules[node.opType];
    if (!rule) throw new NoGradientRuleError(node.name, node.opType, `no rule (differentiable here: ${Object.keys(gradientRules).join(', ')})`);
    if (node.outputs.length !== 1) throw new NoGradientRuleError(node.name, node.opType, `${node.outputs.length} outputs`);
    shapes.set(node.outputs[0], rule.shape(node, node.inputs.map((i) => shapes.get(i) ?? []), g));
  }
  return shapes;
}

/**
 * Appends the backward pass to `g` (whose nodes must be the forward graph, in topological order). Returns,
 * per param, the value holding its gradient, or null when the output does not depend on it.
 */
export function appendBackward(g: OnnxGraph, shapes: Map<string, Dims>, output: string, dOutput: string, params: string[]): Map<string, string | null> {
  const forward = [...g.nodes];
  const needsGrad = new Set(params);
  for (const node of forward) if (node.inputs.some((i) => needsGrad.has(i))) node.outputs.forEach((o) => needsGrad.add(o));
  const contributions = new Map<string, string[]>([[output, [dOutput]]]);
  const total = (value: string): string | null => {
    const parts = contributions.get(value);
    if (!parts) return null;
    return parts.length === 1 ? parts[0] : g.add('Sum', parts, {}, `${value}/grad`);
  };
  for (const node of forward.reverse()) {
    const needs = node.inputs.map((i) => needsGrad.has(i));
    if (!needs.some(Boolean)) continue;
    const dy = total(node.outputs[0]);
    if (!dy) continue;
    const shape = (v: string) => shapes.get(v) ?? [];
    gradientRules[node.opType].grad({ g, node, shape, dy, needs }).forEach((grad, k) => {
      if (!grad || !needs[k]) return;
      const list = contributions.get(node.inputs[k]) ?? [];
      list.push(grad);
      contributions.set(node.inputs[k], list);
    });
  }
  return new Map(params.map((p) => [p, total(p)]));
}
