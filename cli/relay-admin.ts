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

/**
 * Polls GET /v1/dlq/replay every `everyMs` and prints the running replay's progress, one line per
 * change (`replay billing: scanned 1200, matched 300, sent 120`), until stopped. Polling failures are
 * ignored: the replay's own request reports what went wrong.
 */
export function watchReplay({
  url,
  token,
  print,
  everyMs = 2000,
}: {
  url: string;
  token: string | undefined;
  print: (line: string) => void;
  everyMs?: number;
}): { stop(): void } {
  let last = '';
  let stopped = false;
  const tick = async () => {
    try {
      const answer = await adminCall({ url, token, method: 'GET', path: '/v1/dlq/replay' });
      const job = answer.body as {
        sink?: string;
        running?: boolean;
        progress?: { scanned: number; matched: number; sent: number };
      };
      if (stopped || answer.status !== 200 || !job.running || !job.progress) return;
      const { scanned, matched, sent } = job.progress;
      const line = `replay ${job.sink}: scanned ${scanned}, matched ${matched}, sent ${sent}`;
      if (line !== last) print(line);
      last = line;
    } catch {
      // the replay request itself says why, if the relay went away
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
