// A small client for the relay's admin API, used by `ferry relay status|pause|resume|replay`.
// The token comes from --token or FERRY_ADMIN_TOKEN; it is sent as a bearer token and never printed.
import { CliError, networkReason, rootMessage } from './errors.ts';

export interface AdminCall {
  readonly url: string;
  readonly token: string | undefined;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
}

export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

export async function adminCall({ url, token, method, path, body }: AdminCall): Promise<AdminAnswer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let target: URL;
  try {
    target = new URL(path, url);
  } catch {
    throw new CliError(`--url ${url} is not a URL (like http://127.0.0.1:8787)`, 2);
  }
  let res: Response;
  try {
    res = await fetch(target, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    const reason = networkReason(error) ?? rootMessage(error);
    throw new CliError(
      `cannot reach the relay at ${target.origin}: ${reason} (is it running? set --url or FERRY_RELAY_URL)`,
    );
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

/** Builds the replay request body from CLI options (numbers and ISO times pass through as given). */
export function replayBody(
  sink: string,
  o: {
    from?: string;
    to?: string;
    topic?: string;
    partition?: string;
    fromOffset?: string;
    toOffset?: string;
    limit?: string;
    dryRun?: boolean;
  },
): Record<string, unknown> {
  const body: Record<string, unknown> = { sink, dryRun: o.dryRun === true };
  const time = (v: string) => (/^\d+$/.test(v) ? Number(v) : v);
  if (o.from) body.from = time(o.from);
  if (o.to) body.to = time(o.to);
  if (o.topic) body.topic = o.topic;
  if (o.partition) body.partition = Number(o.partition);
  if (o.fromOffset) body.fromOffset = o.fromOffset;
  if (o.toOffset) body.toOffset = o.toOffset;
  if (o.limit) body.limit = Number(o.limit);
  return body;
}
