// The Wasm module contract of wasm/: one reader, one import table, one link rule, shared by the
// deploy-time checks (wasm/build) and the host (wasm/host).
export {
  describeType,
  importProblems,
  LINKER,
  linkedSignature,
  SCHEMA_REGISTRY_MODULE,
  TRANSFORM_MODULE,
  WASI_MODULE,
} from './imports.ts';
export { DEFAULT_MEMORY_LIMIT_BYTES, type LinkOptions, linkProblems, MAX_TABLE_ELEMENTS } from './link.ts';
export { withMemoryMax } from './memory-max.ts';
export {
  type ExternalKind,
  type FuncType,
  functionType,
  isWasmFormatError,
  type Limits,
  type ModuleExport,
  type ModuleImport,
  type ModuleInfo,
  readModuleInfo,
  type ValType,
  type WasmFormatError,
} from './reader.ts';
