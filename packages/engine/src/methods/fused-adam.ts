// Adam in one pass over every weight of a group, in a 128-bit SIMD wasm loop of its own. tf.train.adam runs ~10
// TF.js kernels per variable per step (each allocating its result): on fine_tune's two MobileNetV2 blocks (880k
// weights, 96 px, batch 32) that was 9.1 of a ~35 ms step on the main thread. The same float32 operations in the
// same order make the same weights, bit for bit (test/engine-methods/fused-adam.test.ts): m and v, the bias
// corrections by the running β powers, √v̂ + ε, the step by −learning rate, added to the weight.
// The weights still live in their tf.js variables (the served model is built from them). Each step copies the
// gradients in and, unless writes are deferred, the updated weights back out. Deferred (the trainable blocks on
// ONNX Runtime, which reads current() instead of the variables): the variables are written at publish(), once an
// epoch before validation, not ~7 MB of copies and wasm heap churn every step.
import * as tf from '@tensorflow/tfjs';
import { float32Values } from '@graft/onnx';
import type { Gradients } from '../suffix/index.ts';

// The kernel, as WebAssembly text:
//   (func (export "adam") (param $w $g $m $v $bytes i32) (param $b1 $c1 $b2 $c2 $k1 $k2 $eps $nlr f32)
//     (local $i i32) (local $gi $mi $vi v128)
//     loop while $i < $bytes, 16 bytes (4 floats) a turn:
//       gi = g[i]; mi = m[i]·b1 + gi·c1; vi = v[i]·b2 + (gi·gi)·c2; m[i] = mi; v[i] = vi
//       w[i] = ((mi / k1) / (sqrt(vi / k2) + eps)) · nlr + w[i])
// with c = 1 − β, k = 1 − βᵗ and nlr = −learning rate, exactly as tf.train.adam composes them.
const SIMD = 0xfd;
const op = {
  block: 0x02, loop: 0x03, end: 0x0b, br: 0x0c, brIf: 0x0d, get: 0x20, set: 0x21, i32Const: 0x41, i32GeU: 0x4f, i32Add: 0x6a,
  // SIMD opcodes, as LEB128 after the 0xfd prefix
  load: [SIMD, 0x00, 4, 0], store: [SIMD, 0x0b, 4, 0], splat: [SIMD, 0x13], sqrt: [SIMD, 0xe3, 0x01], add: [SIMD, 0xe4, 0x01], mul: [SIMD, 0xe6, 0x01], div: [SIMD, 0xe7, 0x01],
};
const [W, G, M, V, BYTES, B1, C1, B2, C2, K1, K2, EPS, NLR, I, GI, MI, VI] = Array.from({ length: 17 }, (_, k) => k);
const get = (k: number) => [op.get, k];
const at = (base: number) => [...get(base), ...get(I), op.i32Add];
const splat = (k: number) => [...get(k), ...op.splat];
const body = [
  2, 1, 0x7f, 3, 0x7b, // locals: $i i32, $gi $mi $vi v128
  op.block, 0x40, op.loop, 0x40,
  ...get(I), ...get(BYTES), op.i32GeU, op.brIf, 1,
  ...at(G), ...op.load, op.set, GI,
  ...at(M), ...op.load, ...splat(B1), ...op.mul, ...get(GI), ...splat(C1), ...op.mul, ...op.add, op.set, MI,
  ...at(M), ...get(MI), ...op.store,
  ...at(V), ...op.load, ...splat(B2), ...op.mul, ...get(GI), ...get(GI), ...op.mul, ...splat(C2), ...op.mul, ...op.add, op.set, VI,
  ...at(V), ...get(VI), ...op.store,
  ...at(W),
  ...get(MI), ...splat(K1), ...op.div,
  ...get(VI), ...splat(K2), ...op.div, ...op.sqrt, ...splat(EPS), ...op.add,
  ...op.div, ...splat(NLR), ...op.mul, ...at(W), ...op.load, ...op.add,
  ...op.store,
  ...get(I), op.i32Const, 16, op.i32Add, op.set, I,
  op.br, 0, op.end, op.end, op.end,
];
const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}
const name = (s: string) => [s.length, ...Buffer.from(s)];
const kernelModule = new WebAssembly.Module(
  new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 13, ...Array(5).fill(0x7f), ...Array(8).fill(0x7d), 0]), // type: (5 × i32, 8 × f32) -> ()
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0x00, 1]), // one memory, at least a page, grown to fit below
    ...section(7, [2, ...name('adam'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]),
);

interface Slot {
  at: number;
  variable: tf.Variable;
  /** the variable's data when this copy last matched it: another value there was written from outside */
  written: object | null;
  /** stepped since the variable was last written (deferred writes) */
  ahead: boolean;
}

/** tf.train.adam's update for a fixed list of variables (β₁ 0.9, β₂ 0.999, ε the backend's), fused. */
export class FusedAdam {
  private readonly offsets = new Map<string, Slot>();
  private readonly total: number;
  private readonly memory: WebAssembly.Memory;
  private readonly adam: (...args: number[]) => void;
  private readonly epsilon = tf.backend().epsilon();
  /** βᵗ as float32, as tf.train.adam keeps them */
  private beta1Power: number;
  private beta2Power: number;

  constructor(
    variables: tf.Variable[],
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly deferWrites = false,
  ) {
    // four regions (w, g, m, v); in each, every variable starts on a 16-byte vector (the padding stays zero)
    let at = 0;
    for (const variable of variables) {
      this.offsets.set(variable.name, { at, variable, written: null, ahead: false });
      at += Math.ceil(variable.size / 4) * 4;
    }
    this.total = at;
    const instance = new WebAssembly.Instance(kernelModule);
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.memory.grow(Math.ceil((16 * this.total) / 65536));
    this.adam = instance.exports.adam as (...args: number[]) => void;
    this.beta1Power = Math.fround(beta1);
    this.beta2Power = Math.fround(beta2);
  }

  private region(k: number): Float32Array {
    return new Float32Array(this.memory.buffer, 4 * k * this.total, this.total);
  }

  /** A variable's current values: its copy here, read in first if the variable was written from outside. */
  private sync(slot: Slot): Float32Array {
    const w = this.region(0).subarray(slot.at, slot.at + slot.variable.size);
    if (slot.variable.dataId !== slot.written) {
      w.set(float32Values(slot.variable));
      [slot.written, slot.ahead] = [slot.variable.dataId, false];
    }
    return w;
  }

  /** The current weights by variable name, views valid until the next step (ahead of the variables when deferred). */
  current(): Map<string, Float32Array> {
    return new Map([...this.offsets].map(([name, slot]) => [name, this.sync(slot)]));
  }

  /** One step; `grads` keyed by variable name (as tf.Optimizer.applyGradients takes them); one left out is not touched. */
  applyGradients(grads: Gradients): void {
    const g = this.region(1);
    const f = Math.fround;
    const region = 4 * this.total;
    const [k1, k2] = [f(1 - this.beta1Power), f(1 - this.beta2Power)];
    const updated = [...this.offsets].filter(([name]) => grads[name]);
    for (const [name, slot] of updated) {
      const grad = grads[name]!;
      g.set(grad instanceof Float32Array ? grad : float32Values(grad), slot.at);
      this.sync(slot);
      const [at, bytes] = [4 * slot.at, 16 * Math.ceil(slot.variable.size / 4)];
      this.adam(at, region + at, 2 * region + at, 3 * region + at, bytes, this.beta1, 1 - this.beta1, this.beta2, 1 - this.beta2, k1, k2, this.epsilon, -this.learningRate);
      slot.ahead = true;
    }
    this.beta1Power = f(this.beta1Power * f(this.beta1));
    this.beta2Power = f(this.beta2Power * f(this.beta2));
    if (!this.deferWrites) this.publish();
  }

  /** Writes the stepped weights into their variables. */
  publish(): void {
    const w = this.region(0);
    // the wasm backend copies a new tensor's values into its heap; the cpu backend keeps the array itself
    const copied = tf.getBackend() === 'wasm';
    for (const slot of this.offsets.values()) {
      if (!slot.ahead) continue;
      const values = w.subarray(slot.at, slot.at + slot.variable.size);
      tf.tidy(() => slot.variable.assign(tf.tensor(copied ? values : values.slice(), slot.variable.shape, 'float32')));
      [slot.written, slot.ahead] = [slot.variable.dataId, false];
    }
  }
}
