// The WASI preview1 functions the SDK imports (docs/abi.md §8). The file's name is the import module.
// wasi.ts wraps them; nothing else calls these directly.

export declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, nwritten: usize): u16;
export declare function environ_sizes_get(count: usize, bufSize: usize): u16;
export declare function environ_get(environ: usize, buf: usize): u16;
export declare function proc_exit(code: u32): void;
