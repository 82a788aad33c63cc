// The console's two pages, server-rendered with Hono's html template (values are escaped), styled and
// scripted inline under a per-response CSP nonce: no front-end build, nothing fetched from elsewhere.
import { html, raw } from 'hono/html';
import { CONSOLE_SCRIPT } from './script.ts';

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #b7791f; --bad: #cf222e; --muted: #6e7781; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid #8884; }
header h1 { font-size: 1.1rem; margin: 0; }
header form { margin-left: auto; }
main { padding: 0 1rem 2rem; max-width: 1200px; }
section { margin-top: 1.2rem; }
h2 { font-size: 1rem; margin: 0 0 .4rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #8883; white-space: nowrap; }
td.num, th.num { text-align: right; }
.pill { padding: 0 .4rem; border-radius: .6rem; font-size: 12px; border: 1px solid currentColor; }
.running, .closed, .ready { color: var(--ok); }
.paused, .half-open, .notready { color: var(--warn); }
.open, .isolated { color: var(--bad); }
.muted { color: var(--muted); }
.big { font-size: 1.6rem; font-weight: 600; }
.tiles { display: flex; gap: 2rem; align-items: end; flex-wrap: wrap; }
svg.spark polyline { fill: none; stroke: #0969da; stroke-width: 1.5; }
svg.spark { vertical-align: middle; }
form.filters { display: flex; gap: .6rem; flex-wrap: wrap; align-items: end; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; }
.error { color: var(--bad); }
[hidden] { display: none !important; }
.login { max-width: 22rem; margin: 15vh auto; padding: 1.5rem; border: 1px solid #8885; border-radius: .5rem; }
.login input { width: 100%; box-sizing: border-box; margin: .4rem 0 .8rem; padding: .4rem; }
`;

export function consoleHeaders(nonce: string): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

export function loginPage({ nonce, error }: { nonce: string; error?: string | undefined }) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Ferry console: sign in</title>
    <style nonce="${nonce}">${raw(STYLE)}</style>
  </head>
  <body>
    <form class="login" method="post" action="/console/login">
      <h1>Ferry console</h1>
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
      ${error ? html`<p class="error" id="login-error" role="alert">${error}</p>` : ''}
      <button type="submit">Sign in</button>
      <p class="muted">The relay's <code>adminToken</code>. It is checked once; the session cookie holds a random id, never the token.</p>
    </form>
  </body>
</html>`;
}

export function consolePage({
  nonce,
  csrf,
  instanceId,
  sinks,
  canReplay,
}: {
  nonce: string;
  csrf: string;
  instanceId: string;
  sinks: readonly string[];
  canReplay: boolean;
}) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="ferry-csrf" content="${csrf}" />
    <title>Ferry console</title>
    <style nonce="${nonce}">${raw(STYLE)}</style>
  </head>
  <body>
    <header>
      <h1>Ferry console</h1>
      <span class="muted">instance <code>${instanceId}</code></span>
      <span id="ready" class="pill">…</span>
      <span id="status" class="muted"></span>
      <form method="post" action="/console/logout">
        <input type="hidden" name="_csrf" value="${csrf}" />
        <button type="submit" id="logout">Sign out</button>
      </form>
    </header>
    <main>
      <section>
        <div class="tiles">
          <div><div class="muted">delivered / s</div><div class="big" id="total-rate">–</div></div>
          <div><svg class="spark" id="total-spark" width="240" height="40" viewBox="0 0 240 40" role="img" aria-label="delivered per second, last two minutes"><polyline points="" /></svg></div>
          <div><div class="muted">delivered (total)</div><div class="big" id="total-delivered">–</div></div>
          <div><div class="muted">freshness (avg, last second)</div><div class="big" id="total-freshness">–</div></div>
          <div><div class="muted">in flight</div><div class="big" id="total-inflight">–</div></div>
        </div>
      </section>
      <section>
        <h2>Sinks</h2>
        <table id="sinks">
          <thead><tr>
            <th>sink</th><th>state</th><th>breaker</th>
            <th class="num">delivered/s</th><th class="num">retried/s</th><th class="num">dead-lettered/s</th><th class="num">deduplicated/s</th>
            <th class="num">delivered</th><th class="num">freshness</th><th class="num">in flight</th><th class="num">buffered</th><th class="num">waiting keys</th>
            <th>last 2 min</th><th></th>
          </tr></thead>
          <tbody></tbody>
        </table>
      </section>
      <section>
        <h2>Waiting keys</h2>
        <table id="parked"><thead><tr><th>sink</th><th>key</th><th>why</th><th>until</th></tr></thead><tbody></tbody></table>
        <p class="muted" id="parked-none">none</p>
      </section>
      <section>
        <h2>Consumer lag</h2>
        <table id="lag"><thead><tr><th>topic</th><th class="num">partition</th><th class="num">lag</th><th class="num">pending</th><th>paused</th></tr></thead><tbody></tbody></table>
      </section>
      <section>
        <h2>Dead letters (dlq)</h2>
        ${
          canReplay
            ? html`<form class="filters" id="dlq-form">
          <label>sink<select name="sink" id="dlq-sink">${sinks.map((s) => html`<option value="${s}">${s}</option>`)}</select></label>
          <label>error code<input name="code" id="dlq-code" placeholder="any" size="22" list="dlq-codes" autocomplete="off" /><datalist id="dlq-codes"></datalist></label>
          <label>failed from<input name="from" id="dlq-from" type="datetime-local" step="1" /></label>
          <label>failed until<input name="to" id="dlq-to" type="datetime-local" step="1" /></label>
          <label>at most<input name="limit" id="dlq-limit" type="number" min="1" max="1000" value="200" /></label>
          <button type="submit" id="dlq-search">Show (dry run)</button>
        </form>
        <p id="dlq-summary" class="muted"></p>
        <table id="dlq"><thead><tr><th>event id</th><th>source</th><th>code</th><th>failed at</th><th>outcome</th></tr></thead><tbody></tbody></table>
        <p id="replay-confirm-box" hidden>
          <span id="replay-question"></span>
          <button type="button" id="replay-confirm">Confirm replay</button>
          <button type="button" id="replay-cancel">Cancel</button>
        </p>
        <p id="replay-progress-box" hidden>
          <progress id="replay-progress" max="1" value="0"></progress>
          <span id="replay-status"></span>
        </p>`
            : html`<p class="muted">This relay has no DLQ reader, so there is nothing to show or replay.</p>`
        }
        <p id="action-error" class="error" role="alert"></p>
      </section>
    </main>
    <script nonce="${nonce}">${raw(CONSOLE_SCRIPT)}</script>
  </body>
</html>`;
}
