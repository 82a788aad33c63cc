// The console in real Chromium against a relay on the real stack (Kafka, Redis) and the mock API:
// a wrong token is refused; signed in, the throughput moves while records flow; a sink is paused and
// resumed from its button; dead letters are shown by a dry run, then replayed with progress, and the
// sink's delivered count rises; a form posted from another origin with the session cookie is refused
// by the CSRF check. Screenshots land in .ferry/screenshots/.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from '../support/browser.ts';
import { lagIsZero, startTestRelay, type TestRelay, topicRelayDocument } from '../support/relay-run.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

const TOKEN = 'test-admin-token-0123456789';
const REJECTED = 5;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

describe('console in Chromium', () => {
  const bed = useRelayTestbed();
  const run = randomUUID().slice(0, 8);
  const sinkId = `orders-${run}`;
  let relay: TestRelay;
  let browser: TestBrowser;
  let base: string;
  let stopHttp: () => Promise<void>;
  let topic: string;

  beforeAll(async () => {
    topic = await bed.topic('console', 2);
    const api = await bed.startApi({ endpoints: ['orders'] });
    // The first requests are refused for good: they become the dead letters the console replays.
    api.setFaults('orders', { fixed: { status: 400, count: REJECTED }, latency: { kind: 'fixed', ms: 5 } });
    relay = await startTestRelay(
      topicRelayDocument(topic, [
        {
          id: sinkId,
          url: `${api.url}/orders/{key}`,
          bulkhead: { maxInFlight: 8 },
          dedupe: { store: 'redis' },
        },
      ]),
      `console-${run}`,
    );
    let server: ReturnType<typeof serve> | undefined;
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: relay.runtime.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
        resolve(info.port),
      );
    });
    base = `http://127.0.0.1:${port}`;
    stopHttp = () => new Promise<void>((resolve) => server?.close(() => resolve()));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stopHttp?.();
    await relay?.stop();
  });

  it('refuses a wrong token and keeps no cookie', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.fill('#token', 'not-the-token');
    const [answer] = await Promise.all([
      page.waitForResponse(`${base}/console/login`),
      page.click('button[type=submit]'),
    ]);
    expect(answer.status()).toBe(401);
    await expect(page.locator('#login-error').textContent()).resolves.toBe('Wrong token.');
    expect(await browser.context.cookies(`${base}/console`)).toEqual([]);
    await browser.screenshot(page, 'console-wrong-token');
    await page.close();
  });

  it('signs in, shows throughput moving while records flow, pauses and resumes a sink', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/console`);
    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForURL(`${base}/console`), page.click('button[type=submit]')]);
    const cookies = await browser.context.cookies(`${base}/console`);
    expect(cookies).toEqual([
      expect.objectContaining({
        name: 'ferry_console',
        httpOnly: true,
        sameSite: 'Strict',
        path: '/console',
      }),
    ]);
    expect(cookies[0]?.value).not.toContain(TOKEN);

    const row = page.locator(`tr[data-sink="${sinkId}"]`);
    await expect(row.locator('[data-col="mode"]').textContent()).resolves.toBeDefined();
    // Records keep arriving (60 every 100 ms) until the page has shown six delivery rates above zero.
    let produced = 0;
    let flowing = true;
    const producing = (async () => {
      while (flowing && produced < 20_000) {
        await bed.producer.produce(topic, produced, 60, { keys: 40, run });
        produced += 60;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const rates: number[] = [];
    try {
      await waitUntil(
        async () => {
          const text = await page.locator('#total-rate').textContent();
          const rate = Number((text ?? '').replace(/,/g, ''));
          if (Number.isFinite(rate) && rate > 0 && rates.at(-1) !== rate) rates.push(rate);
          return rates.length >= 6;
        },
        { timeoutMs: 60_000, intervalMs: 250, message: 'delivered/s above zero on six polls' },
      );
      const points = await page.locator('#total-spark polyline').getAttribute('points');
      expect((points ?? '').split(' ').length).toBeGreaterThanOrEqual(6);
      await browser.screenshot(page, 'console-live');
    } finally {
      flowing = false;
      await producing;
    }
    const rowDelivered = Number(await row.locator('[data-col="delivered"]').textContent());
    expect(rowDelivered).toBeGreaterThan(0);

    const mode = row.locator('[data-col="mode"]');
    await row.locator('button').click();
    await waitUntil(async () => (await mode.textContent()) === 'paused', { message: 'mode shows paused' });
    expect(relay.runtime.relay.state().sinks.find((s) => s.id === sinkId)?.mode).toBe('paused');
    await expect(row.locator('button').textContent()).resolves.toBe('Resume');
    await browser.screenshot(page, 'console-paused');
    await row.locator('button').click();
    await waitUntil(async () => (await mode.textContent()) === 'running', { message: 'mode shows running' });
    expect(relay.runtime.relay.state().sinks.find((s) => s.id === sinkId)?.mode).toBe('running');

    await waitUntil(() => lagIsZero(relay.runtime, topic, 2), { timeoutMs: 60_000, message: 'drained' });
    await waitUntil(
      async () => Number(await row.locator('[data-col="delivered"]').textContent()) === produced - REJECTED,
      { timeoutMs: 10_000, message: 'the page shows every delivery but the rejected ones' },
    );
    await page.close();
  });

  it('shows the dead letters by a dry run, then replays them with progress and the delivered count rises', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/console`);
    const row = page.locator(`tr[data-sink="${sinkId}"]`);
    const delivered = async () => Number(await row.locator('[data-col="delivered"]').textContent());
    await waitUntil(async () => (await delivered()) > 0, { message: 'live row' });
    const before = await delivered();

    // The code filter offers the codes this relay has dead-lettered with.
    await waitUntil(
      async () =>
        (
          await page
            .locator('#dlq-codes option')
            .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))
        ).includes('FERRY_SINK_REJECTED'),
      { message: 'codes offered' },
    );
    await page.selectOption('#dlq-sink', sinkId);
    await page.fill('#dlq-code', 'FERRY_SINK_REJECTED');
    await page.click('#dlq-search');
    await waitUntil(
      async () => (await page.locator('#dlq-summary').textContent())?.startsWith(`${REJECTED} `),
      {
        timeoutMs: 60_000,
        message: 'dry run summary',
      },
    );
    expect(await page.locator('#dlq tbody tr').count()).toBe(REJECTED);
    const ids = await page
      .locator('#dlq tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
    expect(ids.every((id) => id?.startsWith(`${run}-`))).toBe(true);
    expect(await delivered()).toBe(before); // a dry run sends nothing
    await expect(page.locator('#replay-question').textContent()).resolves.toContain(`${REJECTED} record(s)`);
    await browser.screenshot(page, 'console-dlq-dry-run');

    await page.click('#replay-confirm');
    await waitUntil(
      async () => (await page.locator('#replay-status').getAttribute('data-state')) === 'done',
      {
        timeoutMs: 60_000,
        message: 'replay done',
      },
    );
    await expect(page.locator('#replay-status').textContent()).resolves.toBe(
      `done: ${REJECTED} of ${REJECTED} (delivered ${REJECTED})`,
    );
    expect(await page.locator('#replay-progress').evaluate((p: HTMLProgressElement) => p.value)).toBe(
      REJECTED,
    );
    await waitUntil(async () => (await delivered()) === before + REJECTED, { message: 'delivered rose' });
    await browser.screenshot(page, 'console-replayed');
    await page.close();
  });

  it('refuses a form posted from another origin with the session cookie, and a request without the CSRF token', async () => {
    const evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<form id="f" method="post" action="${base}/console/api/sinks/${sinkId}/pause"><input name="x" value="1"></form>` +
          `<script>document.getElementById('f').submit()</script>`,
      );
    });
    const evilPort = await listen(evil);
    try {
      const page = await browser.newPage();
      const [answer] = await Promise.all([
        page.waitForResponse(`${base}/console/api/sinks/${sinkId}/pause`),
        page.goto(`http://127.0.0.1:${evilPort}/`, { waitUntil: 'commit' }),
      ]);
      // Same site (another port of 127.0.0.1): the Strict cookie went along, and the CSRF check refused it.
      expect(answer.request().headers().cookie ?? (await answer.request().allHeaders()).cookie).toContain(
        'ferry_console=',
      );
      expect(answer.status()).toBe(403);
      expect(await answer.json()).toMatchObject({ code: 'FERRY_CONSOLE_CSRF' });
      expect(relay.runtime.relay.state().sinks.find((s) => s.id === sinkId)?.mode).toBe('running');

      await page.goto(`${base}/console`);
      const status = await page.evaluate(
        async (path) =>
          (await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' } })).status,
        `/console/api/sinks/${sinkId}/pause`,
      );
      expect(status).toBe(403);
      expect(relay.runtime.relay.state().sinks.find((s) => s.id === sinkId)?.mode).toBe('running');

      await Promise.all([page.waitForURL(`${base}/console/login`), page.click('#logout')]);
      expect(await browser.context.cookies(`${base}/console`)).toEqual([]);
      const after = await page.evaluate(async () => (await fetch('/console/api/live')).status);
      expect(after).toBe(401);
      await page.close();
    } finally {
      evil.closeAllConnections();
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
  });
});
