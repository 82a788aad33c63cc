// redpanda_schema_registry v0 (docs/abi.md §7), answered as a broker without a schema registry: every call
// returns -1 ("schema registry not enabled"). Pointer arguments are still bounds-checked (§0).
import type { GuestMemory } from './ffi.ts';

export const SR_NOT_ENABLED = -1;

export function createSchemaRegistry(memory: GuestMemory) {
  return {
    check_abi_version_0(): void {},
    get_schema_definition_len(_id: number, outLen: number): number {
      memory.check(outLen, 4);
      return SR_NOT_ENABLED;
    },
    get_schema_definition(_id: number, buf: number, len: number): number {
      memory.check(buf, len);
      return SR_NOT_ENABLED;
    },
    get_subject_schema_len(subj: number, subjLen: number, _version: number, outLen: number): number {
      memory.check(subj, subjLen);
      memory.check(outLen, 4);
      return SR_NOT_ENABLED;
    },
    get_subject_schema(subj: number, subjLen: number, _version: number, buf: number, len: number): number {
      memory.check(subj, subjLen);
      memory.check(buf, len);
      return SR_NOT_ENABLED;
    },
    create_subject_schema(subj: number, subjLen: number, buf: number, len: number, outId: number): number {
      memory.check(subj, subjLen);
      memory.check(buf, len);
      memory.check(outId, 4);
      return SR_NOT_ENABLED;
    },
  };
}
