// The ONNX graph under construction: nodes, float/int64 initializers and unique names. Layer
// exporters append to it; the optimisation passes (BN and Pad folding) rewrite it before encoding.
import { createHash } from 'node:crypto';
import { AttributeType, DataType, encodeModel, type AttributeMessage, type DimMessage } from '../onnx-proto.ts';
import type { Derivation } from './derivation.ts';

export type Attr = { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string };

export interface GraphNode {
  name: string;
  opType: string;
  /** an operator set other than ONNX's own (e.g. ONNX Runtime's com.microsoft contrib ops) */
  domain?: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

export interface Initializer {
  dims: number[];
  data: Float32Array | BigInt64Array;
  /** set when the numbers come from model variables (a training graph takes them as an input) */
  derivation?: Derivation;
}

/**
 * A value of the exported graph standing for one Keras tensor. `shape` is the Keras (channels-last)
 * shape with null for the batch; in ONNX every rank-4 value is stored NCHW, all others as in Keras.
 */
export interface Value {
  name: string;
  shape: (number | null)[];
}

export interface GraphIo {
  name: string;
  /** ONNX-side shape; null = symbolic dimension */
  dims: (number | null)[];
}

export class OnnxGraph {
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  private readonly used = new Set<string>();

  /** A name not used yet, derived from `base` (Keras layer names are unique, but one layer emits several values). */
  uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = clean;
    for (let k = 1; this.used.has(name); k++) name = `${clean}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Claims a fixed name (graph inputs and outputs) so no emitted value takes it. */
  reserve(name: string): void {
    this.used.add(name);
  }

  addFloat(base: string, dims: number[], data: Float32Array, derivation?: Derivation): string {
    const name = this.uniqueName(base);
    this.initializers.set(name, { dims, data, derivation });
    return name;
  }

  addInt64(base: string, values: number[]): string {
    const name = this.uniqueName(base);
    this.initializers.set(name, { dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  /** Appends a node and returns its (single) output name. */
  add(opType: string, inputs: string[], attrs: Record<string, Attr>, base: string): string {
    const out = this.uniqueName(base);
    this.nodes.push({ name: this.uniqueName(`${base}/${opType}`), opType, inputs, outputs: [out], attrs });
    return out;
  }

  /**
   * Stores equal constants once: a layer applied twice (the served model's backbone on an image and on its
   * mirror) emits its weights twice, and the file would hold the backbone twice. For an inference graph only:
   * a training graph's initializers stand for distinct variables.
   */
  shareEqualInitializers(): void {
    // only constants of one type and shape can be equal: hash those that share theirs with another
    const byShape = new Map<string, string[]>();
    for (const [name, t] of this.initializers) {
      const key = `${t.data instanceof Float32Array ? 'f' : 'i'}${t.dims.join('x')}`;
      byShape.set(key, [...(byShape.get(key) ?? []), name]);
    }
    const alias = new Map<string, string>();
    for (const names of byShape.values()) {
      const first = new Map<string, string>();
      for (const name of names.length > 1 ? names : []) {
        const { data } = this.initializers.get(name)!;
        const hash = createHash('sha1').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
        const kept = first.get(hash);
        if (kept === undefined) first.set(hash, name);
        else alias.set(name, kept);
      }
    }
    for (const name of alias.keys()) this.initializers.delete(name);
    for (const node of this.nodes) node.inputs = node.inputs.map((i) => alias.get(i) ?? i);
  }

  producerOf(value: string): GraphNode | undefined {
    return this.nodes.find((n) => n.outputs.includes(value));
  }

  consumersOf(value: string): GraphNode[] {
    return this.nodes.filter((n) => n.inputs.includes(value));
  }

  removeNode(node: GraphNode): void {
    this.nodes.splice(this.nodes.indexOf(node), 1);
  }

  encode(opts: {
    inputs: GraphIo[];
    outputs: GraphIo[];
    opset: number;
    producerVersion: string;
    docString?: string;
    metadata?: Record<string, string>;
    /** the nodes to encode (default: all); initializers follow them */
    nodes?: GraphNode[];
  }): Uint8Array {
    const nodes = opts.nodes ?? this.nodes;
    const io = (v: GraphIo) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: DataType.FLOAT,
          shape: { dim: v.dims.map((d, k): DimMessage => (d === null ? { dimParam: k === 0 ? 'batch' : `d${k}` } : { dimValue: d })) },
        },
      },
    });
    const liveInits = new Set(nodes.flatMap((n) => n.inputs));
    return encodeModel({
      // IR version 7 is the one that goes with opset 13 (onnx/onnx docs/Versioning.md)
      irVersion: 7,
      opsetImport: [{ domain: '', version: opts.opset }, ...[...new Set(nodes.flatMap((n) => (n.domain ? [n.domain] : [])))].map((domain) => ({ domain, version: 1 }))],
      producerName: 'graft',
      producerVersion: opts.producerVersion,
      docString: opts.docString,
      graph: {
        name: 'graft',
        node: nodes.map((n) => ({
          name: n.name,
          opType: n.opType,
          ...(n.domain ? { domain: n.domain } : {}),
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs).map(([name, a]) => encodeAttr(name, a)),
        })),
        initializer: [...this.initializers]
          .filter(([name]) => liveInits.has(name))
          .map(([name, t]) => ({
            name,
            dims: t.dims,
            dataType: t.data instanceof Float32Array ? DataType.FLOAT : DataType.INT64,
            // raw_data is little-endian per the ONNX spec, as are typed arrays on every platform Node runs on
            rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          })),
        input: opts.inputs.map(io),
        output: opts.outputs.map(io),
      },
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
  }
}

function encodeAttr(name: string, a: Attr): AttributeMessage {
  if ('i' in a) return { name, type: AttributeType.INT, i: a.i };
  if ('f' in a) return { name, type: AttributeType.FLOAT, f: a.f };
  if ('ints' in a) return { name, type: AttributeType.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: AttributeType.FLOATS, floats: a.floats };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.s) };
}
