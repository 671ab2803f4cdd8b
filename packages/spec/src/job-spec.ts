// The job spec: the one schema that validates POST /jobs, generates the OpenAPI document and
// types the worker and the engine's options. Change it here and every consumer follows.
import { Type, type Static } from '@sinclair/typebox';

export const Method = Type.Union(
  [
    Type.Literal('fine_tune'),
    Type.Literal('feature_extraction'),
    Type.Literal('multi_task'),
    Type.Literal('domain_adaptation'),
  ],
  { $id: 'Method', description: 'Transfer method.' },
);
export type Method = Static<typeof Method>;

export const DatasetRef = Type.Union(
  [
    Type.Object(
      { url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s)://, s3://bucket/key on the configured store, or file:// inside DATASETS_DIR' }) },
      { additionalProperties: false },
    ),
    Type.Object(
      { id: Type.String({ minLength: 1, maxLength: 64, description: 'id returned by POST /datasets' }) },
      { additionalProperties: false },
    ),
  ],
  { $id: 'DatasetRef', description: 'An archive (zip, tar, tar.gz) in ImageFolder layout <class>/<image> or with labels.csv (path,label).' },
);
export type DatasetRef = Static<typeof DatasetRef>;

const Rgb = (description: string) => Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { description });

export const PixelPreprocessing = Type.Union(
  [
    Type.Literal('tf', { description: 'Keras "tf" mode: x / 127.5 − 1 (−1…1), RGB (MobileNet, Inception, EfficientNet-style models).' }),
    Type.Literal('caffe', { description: 'Keras "caffe" mode: RGB→BGR, 0…255 minus the ImageNet mean (103.939, 116.779, 123.68) (Keras ResNet50, VGG16/19).' }),
    Type.Literal('torch', { description: 'PyTorch/torchvision: x / 255, minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225), RGB.' }),
    Type.Object(
      {
        scale: Type.Number({ exclusiveMinimum: 0, description: 'Multiplies the 0…255 pixel first (1/255 for 0…1 inputs).' }),
        mean: Rgb('Subtracted after scaling, per model input channel (in channelOrder).'),
        std: Rgb('Divides after the mean, per model input channel (in channelOrder); each > 0.'),
        channelOrder: Type.Union([Type.Literal('rgb'), Type.Literal('bgr')], { description: 'Channel order the model takes.' }),
      },
      { additionalProperties: false, description: 'value[c] = (pixel[c] · scale − mean[c]) / std[c], channels in channelOrder.' },
    ),
  ],
  { $id: 'PixelPreprocessing', description: 'How an 8-bit RGB pixel becomes the model\'s input value: a named convention or explicit mean/std.' },
);
export type PixelPreprocessing = Static<typeof PixelPreprocessing>;

export const BackboneRef = Type.Union(
  [
    Type.String({ minLength: 1, maxLength: 64, description: 'A registered backbone id (GET /backbones).' }),
    Type.Object(
      {
        url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s):// URL or file:// path of a TF.js layers model.json, or of an .onnx file' }),
        format: Type.Optional(
          Type.Union([Type.Literal('tfjs'), Type.Literal('onnx')], {
            description: 'tfjs (default; onnx when the URL ends in .onnx): a TF.js layers model. onnx: an ONNX image model (e.g. a torchvision export), imported into TF.js layers.',
          }),
        ),
        imageSize: Type.Optional(Type.Integer({ minimum: 16, maximum: 1024, description: 'Native input size of the model.' })),
        pixelRange: Type.Optional(
          Type.Union([Type.Literal('0,1'), Type.Literal('-1,1'), Type.Literal('0,255')], { description: 'Value range the model expects (a linear map of 0…255; use preprocessing for mean/std or BGR models).' }),
        ),
        preprocessing: Type.Optional(PixelPreprocessing),
      },
      { additionalProperties: false },
    ),
  ],
  { $id: 'BackboneRef' },
);
export type BackboneRef = Static<typeof BackboneRef>;

export const Hyperparameters = Type.Object(
  {
    epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'Default from the data: with the whole network training, 10-20 (domain_adaptation 10-30) within a budget of 36,000 image passes; else 20 below 1,000 labelled images, 10 above (domain_adaptation 30). Early stopping ends most runs sooner (not domain_adaptation).' })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 512 })),
    learningRate: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        description: 'Rate of the new heads; trainable backbone blocks use a tenth of it. Default 0.001 (Adam); domain_adaptation 0.01 (SGD with momentum 0.9, annealed as in the DANN paper).',
      }),
    ),
    imageSize: Type.Optional(Type.Integer({ minimum: 32, maximum: 512, description: 'Square input size in pixels; defaults to the backbone\'s native size for feature_extraction; 128 px for fine_tune and multi_task; domain_adaptation 64 px when the images are at most 48 px, else 128.' })),
    trainableBlocks: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: 64 }), Type.Literal('all')], {
        description: 'Blocks at the end of the backbone that train (0 = frozen backbone, "all" = whole network). Default from the data: domain_adaptation "all" at image sizes up to 64 px; else 2 (4 from 500 labelled images per class); feature_extraction 0.',
      }),
    ),
    validationSplit: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5 })),
    augment: Type.Optional(Type.Boolean()),
    earlyStoppingPatience: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    classifier: Type.Optional(Type.Union([Type.Literal('logistic'), Type.Literal('svm')])),
    features: Type.Optional(
      Type.Union([Type.Literal('block_ends'), Type.Literal('last_layer')], {
        description: "Which pooled features the head reads. 'block_ends' (default for feature_extraction, fine_tune, multi_task): the pooled output of every frozen block end concatenated with the last layer's (fine_tune, multi_task: the frozen prefix's, cached once, beside the trained blocks' output). 'last_layer': the last layer's alone (default for domain_adaptation and with trainableBlocks 'all').",
      }),
    ),
    linearProbeFirst: Type.Optional(
      Type.Boolean({ description: "fine_tune, multi_task: start the new heads as linear probes on the pretrained features (C by cross-validation), then train the blocks (LP-FT), keeping the probe unless training beats its validation loss. Default true with features 'block_ends', false with 'last_layer'." }),
    ),
    flipViews: Type.Optional(
      Type.Boolean({
        description:
          "feature_extraction: the classifier also trains on each image's horizontal mirror, and the served model averages the class probabilities of an image and its mirror. Default from the data: up to 1,000 labelled images the probe's cross-validation compares its held-out score with and without mirrors, and keeps mirrors only if they score clearly better (they help some objects, not text or digits; a mirrored model costs two forward passes per prediction); above, off.",
      }),
    ),
    targetEntropyWeight: Type.Optional(
      Type.Number({ minimum: 0, maximum: 10, description: 'domain_adaptation: weight of the target information-maximisation term (confident, class-balanced target predictions); 0 = off.' }),
    ),
    lambda: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'multi_task: weight of the target loss; domain_adaptation: maximum weight of the domain loss.' })),
  },
  { $id: 'Hyperparameters', additionalProperties: false },
);
export type Hyperparameters = Static<typeof Hyperparameters>;

export const JobSpec = Type.Object(
  {
    method: Method,
    backbone: Type.Optional(BackboneRef),
    dataset: DatasetRef,
    source: Type.Optional(DatasetRef),
    validation: Type.Optional(DatasetRef),
    hyperparameters: Type.Optional(Hyperparameters),
  },
  { $id: 'JobSpec', additionalProperties: false },
);
export type JobSpec = Static<typeof JobSpec>;

/** Methods that learn from a second, labelled source domain. */
export const methodsNeedingSource: readonly Method[] = ['multi_task', 'domain_adaptation'];
