// Ferry's command line under Deno with least permissions (the deno.json tasks check-config,
// relay:status, relay:replay, mock-api): the environment the npm packages and commands read is the
// granted one only (a variable --allow-env leaves out reads as unset instead of throwing), then
// cli/main.ts runs as under Node.
import process from 'node:process';
import { type DenoPermissionsApi, permittedEnv } from '../relay/entry/deno-permissions.ts';

const Deno = (globalThis as unknown as { Deno: DenoPermissionsApi }).Deno;
process.env = permittedEnv(Deno).env;
await import('./main.ts');
