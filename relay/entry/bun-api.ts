// The slice of Bun's global API that Ferry uses (Bun.serve, Bun.file), typed here so the project needs
// no Bun type package. Types and one accessor only: importing it has no side effect.

export interface BunServer {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
  /** The peer of a request this server is answering (null for a request it did not receive). */
  requestIP?(request: Request): { readonly address: string; readonly port: number } | null;
}

export interface BunApi {
  serve(options: {
    port: number;
    hostname: string;
    development?: boolean;
    idleTimeout?: number;
    fetch: (request: Request) => Response | Promise<Response>;
  }): BunServer;
  file(path: string): { text(): Promise<string>; exists(): Promise<boolean> };
}

/** Bun's global; only call it when running under Bun. */
export const bun = (): BunApi => (globalThis as unknown as { Bun: BunApi }).Bun;
