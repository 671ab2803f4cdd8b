// What every method receives and returns. train.ts prepares the cached activations and assembles the served
// model; a method only learns weights: the backbone suffix's (in place) and a head on the pooled features.
import type { EpochMetrics } from '@graft/spec';
import type { ExampleSet } from './example-set.ts';
import type { LayerStack } from './heads.ts';
import type { ProbeRefit } from './linear-probe.ts';
import type { MirrorMode } from './mirror-views.ts';
import type { ResolvedHyperparameters } from './hyperparameters.ts';
import type { SuffixRunner } from '../suffix/index.ts';

export interface MethodInput {
  /**
   * the backbone suffix (frozen-prefix activation -> pooled features) on its runtime, ONNX Runtime or TF.js; its
   * trainable weights are the backbone blocks that learn
   */
  runner: SuffixRunner;
  /** width of the suffix's pooled output, the heads' input */
  featureDim: number;
  /** the labelled training set of the served task (the source domain for DANN) */
  train: ExampleSet;
  /** held-out labelled data of the served task, or null when the data was too small to split */
  validation: ExampleSet | null;
  numClasses: number;
  hp: ResolvedHyperparameters;
  rand: () => number;
  signal?: AbortSignal;
  onProgress?(fraction: number): void | Promise<void>;
  onEpoch?(m: EpochMetrics): void | Promise<void>;
  /** multi_task: the labelled source domain and its class count */
  source?: { set: ExampleSet; numClasses: number };
  /** domain_adaptation: the unlabelled target domain; labels (mapped to the served classes), if any, only evaluate */
  target?: ExampleSet;
  /** flipViews: the sets' mirrored views judged by the probe's held-out parts (the default), used (set by the user), or none */
  mirrors: MirrorMode;
}

export interface MethodResult {
  epochs: EpochMetrics[];
  /** pooled features -> class logits; the served model is backbone -> head -> softmax */
  head: LayerStack;
  /** the epoch whose weights `head` (and the trained blocks) hold: 0 the starting probe */
  servedEpoch: number;
  /**
   * set while `head` is a linear probe on features the run leaves as they were (feature_extraction's; LP-FT's
   * when no epoch beat it): train() refits it on every labelled image once the held-out part has scored it
   */
  refit?: ProbeRefit;
  /** the served model averages each image's class probabilities with its mirror's; `why` when the data decided */
  mirrors?: { averaged: boolean; why?: string };
}

export type TransferMethod = (input: MethodInput) => Promise<MethodResult>;
