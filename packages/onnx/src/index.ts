// @graft/onnx: TF.js layers models -> ONNX files, and ONNX Runtime as an optional native forward path.
export { exportToOnnx, exportableLayers, ONNX_OPSET, type ExportOptions } from './export/graph-exporter.ts';
export { UnsupportedLayerError } from './export/layer-export.ts';
export { createOnnxRunner, isOnnxAvailable, type OnnxLogger, type OnnxRunner, type OnnxRunnerOptions } from './runtime/ort-session.ts';
export { createModelRunner } from './runtime/model-runner.ts';
export { createMatrixProducts, type MatrixProducts } from './runtime/matrix-products.ts';
export { decodeModel } from './onnx-proto.ts';
export { onnxPrefixRunnerSpec, createOnnxPrefixRunner, type OnnxPrefixRunnerSpec, type OnnxPrefixInit } from './runtime/prefix-runner-spec.ts';
export { float32Values } from './runtime/tensor-values.ts';
export { OnnxSuffixRunner, type OnnxSuffixPass } from './training/onnx-suffix-runner.ts';
export { NoGradientRuleError } from './training/gradient-rules.ts';
export { onnxToLayers, importableOps, UnsupportedOnnxError, type ImportedModel } from './import/onnx-to-layers.ts';
