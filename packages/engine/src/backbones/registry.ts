// The registered pretrained backbones: what each one is, which inputs it takes and where it comes from.
// Pixel ranges checked against nsfwjs' own preprocessing (dist/esm/core.js divides by 255 for every
// model) and, for mobilenet_v2_mid, against its graph, whose hub_input node maps 0..1 to −1..1 itself.
import * as tf from '@tensorflow/tfjs';
import type { PixelPreprocessing } from '@graft/spec';
import { graphToLayers } from './graph-to-layers.ts';
import { resnet50, vgg16, type KerasApplication } from './keras-applications.ts';
import { loadWeightsByName } from './operator-weights.ts';
import { unwrapTopology, type KerasModelTopology } from './keras-topology.ts';
import { readNsfwjsModel, type NsfwjsModelName } from './nsfwjs-loader.ts';

export interface BackboneInfo {
  id: string;
  name: string;
  nativeImageSize: number;
  imageSizes: { min: number; max: number; multipleOf: number };
  /** the input value range (all of the preprocessing when `preprocessing` is absent) */
  pixelRange: [number, number];
  /** mean/std/channel order beyond a linear pixel range (e.g. "caffe" for Keras ResNet50/VGG16) */
  preprocessing?: PixelPreprocessing;
  blocks: number;
  featureDim: number;
  source: string;
}

export interface PretrainedSource {
  topology: KerasModelTopology;
  /** Pretrained weights by their layer-weight names; the caller disposes them after loading. */
  weights: tf.NamedTensorMap;
}

/** As GET /backbones lists it: whether the backbone can be used here, and if not what the operator must do. */
export type ListedBackbone = BackboneInfo & { available: boolean; unavailableReason?: string };

interface RegistryEntry {
  info: BackboneInfo;
  /** a packaged topology (adapted to the image size by the loader) and its weights */
  read?(): PretrainedSource;
  /** or an architecture built at the image size with its weights loaded, and its block ends */
  build?(imageSize: number): Promise<KerasApplication>;
  /** why it cannot be loaded now (undefined: it can) */
  unavailable?(): string | undefined;
}

/**
 * A keras.applications architecture whose weights the operator configures in `envVar` (a model.json URL).
 * Built with zero initialisers (the loaded weights overwrite them), weights matched by Keras' layer names.
 * Keras' ResNet and VGG take caffe pixels; five stride-2 steps make multiples of 32 keep every map whole.
 */
function kerasApplication(
  id: string,
  title: string,
  envVar: string,
  architecture: (size: number, init: 'zeros') => KerasApplication,
  shape: Pick<BackboneInfo, 'blocks' | 'featureDim'>,
): RegistryEntry {
  return {
    info: {
      id,
      name: `${title} (keras.applications), weights configured by the operator (${envVar})`,
      nativeImageSize: 224,
      imageSizes: { min: 32, max: 512, multipleOf: 32 },
      pixelRange: [-123.68, 151.061],
      preprocessing: 'caffe',
      ...shape,
      source: `env ${envVar}`,
    },
    unavailable: () => (process.env[envVar] ? undefined : `weights not configured: set ${envVar} to the file:// or http(s):// URL of a TF.js layers model.json converted from Keras`),
    async build(imageSize) {
      const url = process.env[envVar];
      if (!url) throw new Error(`weights not configured: set ${envVar}`);
      const built = architecture(imageSize, 'zeros');
      try {
        // the operator's own location (perhaps on a private network): neither the allowed-folder rule for
        // users' file:// URLs nor the fetcher that guards users' URLs applies
        await loadWeightsByName(built.model, url);
        return built;
      } catch (err) {
        built.model.dispose();
        throw err;
      }
    },
  };
}

function fromNsfwjs(name: NsfwjsModelName): () => PretrainedSource {
  return () => {
    const packaged = readNsfwjsModel(name);
    const weights = tf.io.decodeWeights(packaged.weightData, packaged.weightSpecs);
    if (packaged.format === 'graph-model') {
      const converted = graphToLayers(packaged.modelTopology as never, weights);
      const used = new Set(Object.values(converted.weights));
      for (const t of Object.values(weights)) if (!used.has(t)) t.dispose();
      return converted;
    }
    return { topology: unwrapTopology(packaged.modelTopology), weights };
  };
}

const entries: RegistryEntry[] = [
  {
    info: {
      id: 'mobilenet_v2',
      name: 'MobileNetV2 1.0 (Keras), pretrained weights from nsfwjs',
      nativeImageSize: 224,
      // the stem's ZeroPadding2D assumes even sizes at every stride-2 step
      imageSizes: { min: 32, max: 512, multipleOf: 32 },
      pixelRange: [0, 1],
      blocks: 18, // 17 inverted-residual blocks + the final 1×1 conv (Conv_1)
      featureDim: 1280,
      source: 'npm nsfwjs dist/models/mobilenet_v2',
    },
    read: fromNsfwjs('mobilenet_v2'),
  },
  {
    info: {
      id: 'mobilenet_v2_mid',
      name: 'MobileNetV2 1.4 (TF-Hub graph converted to layers), pretrained weights from nsfwjs',
      nativeImageSize: 224,
      imageSizes: { min: 32, max: 512, multipleOf: 32 },
      pixelRange: [0, 1],
      blocks: 18,
      featureDim: 1792,
      source: 'npm nsfwjs dist/models/mobilenet_v2_mid',
    },
    read: fromNsfwjs('mobilenet_v2_mid'),
  },
  {
    info: {
      id: 'inception_v3',
      name: 'InceptionV3 (Keras), pretrained weights from nsfwjs',
      nativeImageSize: 299,
      // 75 px is the smallest input whose feature map stays ≥ 1×1 through the valid-padded reductions
      imageSizes: { min: 75, max: 512, multipleOf: 1 },
      pixelRange: [0, 1],
      blocks: 11, // mixed0 … mixed10
      featureDim: 2048,
      source: 'npm nsfwjs dist/models/inception_v3',
    },
    read: fromNsfwjs('inception_v3'),
  },
  kerasApplication('resnet50', 'ResNet-50', 'GRAFT_RESNET50_URL', resnet50, {
    blocks: 17, // the stem (conv1 + pool1), then 16 bottlenecks conv2_block1 … conv5_block3
    featureDim: 2048,
  }),
  kerasApplication('vgg16', 'VGG-16', 'GRAFT_VGG16_URL', vgg16, {
    blocks: 5, // block1 … block5, each ending in its max pool
    featureDim: 512,
  }),
];

export const defaultBackboneId = 'mobilenet_v2';

export function listBackbones(): ListedBackbone[] {
  return entries.map((e) => {
    const reason = e.unavailable?.();
    return { ...structuredClone(e.info), available: !reason, ...(reason ? { unavailableReason: reason } : {}) };
  });
}

export function findBackbone(id: string): RegistryEntry | undefined {
  return entries.find((e) => e.info.id === id);
}
