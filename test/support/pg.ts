// PostgreSQL for tests: a connected client on the local stack's supply_chain database.
import pg from 'pg';
import { PG } from '../../deploy/local/config.ts';

export { PG, PG_URL } from '../../deploy/local/config.ts';

/** A connected pg.Client as ferry on supply_chain. Call `await client.end()` when done. */
export async function pgClient(): Promise<pg.Client> {
  const client = new pg.Client({ ...PG });
  await client.connect();
  return client;
}

/** Runs `fn` with a fresh client and always closes it. */
export async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await pgClient();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
