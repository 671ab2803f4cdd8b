// CPU time of one fine_tune training step of the trainable suffix on ONNX Runtime (forward + backward through
// OnnxSuffixRunner, batch 32, MobileNetV2 unless --backbone), against another checkout's runner in the same
// process, interleaved round by round (printed table with the ratio, not a timed test).
//   node --import tsx bench/engine/suffix-step.ts [--sizes 96,224] [--blocks 2] [--threads 2] [--rounds 6]
//     [--steps 15] [--base DIR] [--backbone inception_v3]
// --base: a checkout (or `git archive REV packages/onnx/src | tar -x -C DIR` inside this checkout, which then
// shares its node_modules) whose packages/onnx/src/training/onnx-suffix-runner.ts is the baseline.
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { OnnxSuffixRunner } from '@graft/onnx';
import { initBackend, loadBackbone } from '../../packages/engine/src/index.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '96,224' },
    blocks: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '6' },
    steps: { type: 'string', default: '15' },
    base: { type: 'string' },
    backbone: { type: 'string', default: 'mobilenet_v2' },
  },
});

interface StepRunner {
  forward(x: tf.Tensor): Promise<{ features: tf.Tensor2D; backward(d: tf.Tensor2D): Promise<Record<string, tf.Tensor | Float32Array>>; dispose(): void }>;
  dispose(): Promise<void>;
}
type RunnerClass = { create(suffix: tf.LayersModel, opts: { threads: number }): Promise<StepRunner | null> };

await initBackend();
const classes: Record<string, RunnerClass> = { this: OnnxSuffixRunner };
if (args.base) {
  const file = path.resolve(args.base, 'packages/onnx/src/training/onnx-suffix-runner.ts');
  classes.base = ((await import(file)) as { OnnxSuffixRunner: RunnerClass }).OnnxSuffixRunner;
}
const blocks = args.blocks === 'all' ? 'all' : Number(args.blocks);
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

console.log(`| size | trainable blocks | ${Object.keys(classes).join(' CPU ms/step | ')} CPU ms/step |${args.base ? ' this / base |' : ''}`);
console.log(`|---|---|${Object.keys(classes).map(() => '---|').join('')}${args.base ? '---|' : ''}`);
for (const size of args.sizes!.split(',').map(Number)) {
  const backbone = await loadBackbone(args.backbone!, { imageSize: size });
  const { suffix } = backbone.split(blocks);
  const x = tf.randomNormal([32, ...(suffix.inputs[0].shape.slice(1) as number[])]);
  const dF = tf.randomNormal([32, suffix.outputs[0].shape[1] as number]) as tf.Tensor2D;
  const runners: Record<string, StepRunner> = {};
  for (const [name, cls] of Object.entries(classes)) {
    const r = await cls.create(suffix, { threads: Number(args.threads) });
    if (!r) throw new Error(`${name}: the suffix does not train on ONNX Runtime`);
    runners[name] = r;
  }
  const step = async (r: StepRunner) => {
    const pass = await r.forward(x);
    // a base checkout's runner returns tensors, today's ONNX Runtime's own arrays
    for (const g of Object.values(await pass.backward(dF))) if (g instanceof tf.Tensor) g.dispose();
    pass.dispose();
  };
  const cpuMs: Record<string, number[]> = {};
  for (const r of Object.values(runners)) for (let i = 0; i < 3; i++) await step(r);
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [name, r] of Object.entries(runners)) {
      const start = process.cpuUsage();
      for (let i = 0; i < Number(args.steps); i++) await step(r);
      const used = process.cpuUsage(start);
      (cpuMs[name] ??= []).push((used.user + used.system) / 1000 / Number(args.steps));
    }
  }
  const med = Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, median(v)]));
  const cells = Object.keys(classes).map((k) => med[k].toFixed(1));
  console.log(`| ${size} px | ${blocks} | ${cells.join(' | ')} |${args.base ? ` ${(med.this / med.base).toFixed(2)}× |` : ''}`);
  for (const r of Object.values(runners)) await r.dispose();
  tf.dispose([x, dF]);
  backbone.dispose();
}
console.log(`median over ${args.rounds} rounds of ${args.steps} steps each, batch 32, ${args.threads} intra-op threads`);
