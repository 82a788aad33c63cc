// Public entry of the transform build step: compile with asc, check as the broker would.
export {
  type BuildError,
  type BuildOptions,
  type BuildResult,
  buildTransforms,
  buildTransformsOrThrow,
  compileEntry,
  compileEntryCached,
  DEFAULT_OUT_DIR,
  isBuildError,
  listTransforms,
} from './build.ts';
export { type CheckOptions, type CheckResult, checkModule, type ModuleSummary } from './check.ts';
export { ASC_FLAGS } from './preset.ts';
