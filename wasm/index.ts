// Public entry of wasm/: build and deploy-time checks (wasm/build), the broker-faithful host (wasm/host)
// and the portable runner (wasm/runner). relay/ and the CLI import wasm/ only through this file.
export {
  type BuildError,
  type BuildOptions,
  type BuildResult,
  buildTransforms,
  buildTransformsOrThrow,
  type CheckOptions,
  type CheckResult,
  checkModule,
  DEFAULT_OUT_DIR,
  isBuildError,
  listTransforms,
  type ModuleInfo,
} from './build/index.ts';
export {
  type BackoffOptions,
  type BatchResult,
  createTransformHost,
  decodePayload,
  encodePayload,
  encodeWriteOptions,
  FerryWasmError,
  type FerryWasmErrorCode,
  type HostRecord,
  type HostStats,
  type InputBatch,
  isFerryWasmError,
  isWasmTrap,
  LINKER,
  linkProblems,
  MAX_PIPELINE_DEPTH,
  type OutputRecord,
  readModuleInfo,
  type TransformHost,
  type TransformHostOptions,
} from './host/index.ts';
export {
  createTransformRunner,
  type RunnerMetricsSnapshot,
  type TransformRunner,
  type TransformRunnerOptions,
} from './runner/index.ts';
