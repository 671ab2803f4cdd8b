// Fraction of the machine's arithmetic peak: multiply-adds of a Keras model per image (counted from
// its conv/dense layers) against cores × FMA lanes × 2 × clock read from /proc/cpuinfo.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type * as tf from '@tensorflow/tfjs';

/** Multiply-accumulates of one forward pass of one image (convs, depthwise convs, dense). */
export function macsPerImage(model: tf.LayersModel): number {
  let macs = 0;
  const visit = (layers: tf.layers.Layer[]) => {
    for (const layer of layers) {
      const nested = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (nested) {
        visit(nested);
        continue;
      }
      const out = layer.outputShape as number[];
      const kind = layer.getClassName();
      const kernel: number[] = layer.getWeights()[0]?.shape ?? [];
      const outPixels = out.length === 4 ? out[1] * out[2] : 1;
      if (kind === 'Conv2D') macs += outPixels * out[3] * kernel[0] * kernel[1] * kernel[2];
      if (kind === 'DepthwiseConv2D') macs += outPixels * out[3] * kernel[0] * kernel[1];
      if (kind === 'Dense') macs += kernel[0] * kernel[1];
    }
  };
  visit(model.layers);
  return macs;
}

export interface MachinePeak {
  cpu: string;
  cores: number;
  ghz: number;
  flopsPerCycle: number;
  gflops: number;
  assumption: string;
}

/**
 * Peak fp32 FLOP/s. FMA pipes: 2 per core on current x86; AMD Zen 4 (family 25) runs AVX-512 as two
 * 256-bit halves, so its lanes per pipe stay 8 even with avx512f; Intel server AVX-512 gets 16.
 */
export function machinePeak(): MachinePeak {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name: string) => info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1] ?? '';
  const flags = new Set(field('flags').split(/\s+/));
  const amd = field('vendor_id') === 'AuthenticAMD';
  const lanes = flags.has('avx512f') && !amd ? 16 : flags.has('avx2') || flags.has('avx') ? 8 : 4;
  const fmaPipes = flags.has('fma') ? 2 : 1;
  const flopsPerCycle = fmaPipes * lanes * 2;
  const cores = os.availableParallelism();
  const ghz = Number(field('cpu MHz')) / 1000;
  return {
    cpu: field('model name'),
    cores,
    ghz,
    flopsPerCycle,
    gflops: cores * flopsPerCycle * ghz,
    assumption: `${fmaPipes} FMA pipes × ${lanes} fp32 lanes × 2 FLOPs per cycle per core at the nominal ${ghz.toFixed(2)} GHz (cpuinfo; turbo not counted)`,
  };
}
