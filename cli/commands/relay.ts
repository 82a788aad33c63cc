// `ferry relay run --config <file>` and `ferry relay check-config <file>`.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';

export function register(cmd: Command): void {
  cmd
    .command('run')
    .description('run the relay (Node): consume the routed topics and deliver to the sinks')
    .option('-c, --config <file>', 'relay config YAML (default: $FERRY_CONFIG)')
    .addHelpText(
      'after',
      '\nExit codes: 0 after a graceful stop, 1 on a start failure, 2 on an invalid config.',
    )
    .action(async (opts: { config?: string }) => {
      (await import('../../relay/heap-limits.ts')).reexecWithHeapLimits();
      const [{ createNodeHost }, { runRelay }] = await Promise.all([
        import('../../relay/host-node.ts'),
        import('../../relay/main.ts'),
      ]);
      await runRelay(createNodeHost(opts.config ? ['--config', opts.config] : []));
    });

  cmd
    .command('check-config')
    .description('validate a relay config file (with the current environment) and print a summary')
    .argument('<file>', 'relay config YAML')
    .option(
      '--edge',
      'also check what the edge relay (Workers, Deno Deploy) needs: source push or http-proxy, Upstash or memory dedupe, dlq.to http-proxy or url',
    )
    .addHelpText(
      'after',
      '\nExit code 2 and one `path: problem` line per error when the config is invalid.\n' +
        'Covers every source: kafka (TLS/SASL), push (push.token) and http-proxy (httpProxy.url, auth from\n' +
        '${VAR} only, fetch and drain limits). Values are never printed, only their paths.\n' +
        'For the edge, check the FERRY_CONFIG text with the secrets it references set in the environment:\n' +
        '  PUSH_TOKEN=... UPSTASH_TOKEN=... ferry relay check-config --edge relay.edge.yaml',
    )
    .action(async (file: string, opts: { edge?: boolean }) => {
      const { parseConfig } = await import('../../relay/config/load.ts');
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        console.error(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(2);
      }
      const result = parseConfig(text, process.env);
      if (!result.ok) {
        console.error(`invalid config ${file}:`);
        for (const error of result.errors) console.error(`  ${error}`);
        process.exit(2);
      }
      const { config } = result;
      if (opts.edge) {
        const { edgeConfigProblems } = await import('../../relay/edge.ts');
        const problems = edgeConfigProblems(config);
        if (problems.length > 0) {
          console.error(`config ${file} cannot run on the edge:`);
          for (const problem of problems) console.error(`  ${problem}`);
          process.exit(2);
        }
      }
      console.log(`config ${file} is valid${opts.edge ? ' for the edge relay' : ''}`);
      const proxy = config.httpProxy;
      if (config.source === 'http-proxy' && proxy)
        console.log(
          `  source http-proxy ${proxy.url} group ${proxy.group} instance ${proxy.instancePrefix}-<instanceId>, auth ${proxy.auth?.kind ?? 'none'}; drain budget ${proxy.drainBudgetMs} ms, at most ${proxy.drainMaxRecords} records, ${proxy.drainMaxInFlight} in flight; fetch ${proxy.fetchTimeoutMs} ms / ${proxy.fetchMaxBytes} bytes`,
        );
      else console.log(`  source ${config.source}`);
      for (const route of config.relay.routes) {
        for (const sink of route.sinks) {
          const dedupe = sink.dedupe.enabled
            ? `dedupe ${sink.dedupe.store} (${sink.dedupe.onUnavailable} when down)`
            : 'no dedupe';
          console.log(
            `  ${route.topics.join(',')} -> ${sink.id} ${sink.method} ${sink.url}  [${dedupe}, onOpen ${sink.onOpen}, onExhausted ${sink.onExhausted}]`,
          );
        }
      }
    });

  const admin = (sub: Command) =>
    sub
      .option('--url <url>', 'relay base URL', process.env.FERRY_RELAY_URL ?? 'http://127.0.0.1:8787')
      .option('--token <token>', 'admin token (default: $FERRY_ADMIN_TOKEN)');
  const call = async (
    opts: { url: string; token?: string },
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ) => {
    const { adminCall } = await import('../relay-admin.ts');
    const answer = await adminCall({
      url: opts.url,
      token: opts.token ?? process.env.FERRY_ADMIN_TOKEN,
      method,
      path,
      body,
    });
    console.log(JSON.stringify(answer.body, null, 2));
    if (answer.status >= 400) process.exit(1);
  };

  admin(
    cmd.command('status').description('show sinks (mode, breaker, in flight, parked keys) and partitions'),
  ).action((opts: { url: string; token?: string }) => call(opts, 'GET', '/v1/sinks'));
  admin(cmd.command('pause').description("pause a sink's deliveries").argument('<sink>', 'sink id')).action(
    (sink: string, opts: { url: string; token?: string }) =>
      call(opts, 'POST', `/v1/sinks/${encodeURIComponent(sink)}/pause`),
  );
  admin(cmd.command('resume').description("resume a sink's deliveries").argument('<sink>', 'sink id')).action(
    (sink: string, opts: { url: string; token?: string }) =>
      call(opts, 'POST', `/v1/sinks/${encodeURIComponent(sink)}/resume`),
  );
  admin(
    cmd
      .command('reload')
      .description("re-read the running relay's config file and apply its routes and sinks (no restart)")
      .addHelpText(
        'after',
        '\nUnchanged sinks keep flowing; removed ones finish what they hold; a changed one restarts its lane\n' +
          'after the old one finished. A config that does not validate, or that changes what needs a restart\n' +
          '(kafka, redis, listen, tokens, a new topic), is refused (exit 1) and the old one keeps running.\n' +
          'Same as sending SIGHUP to the relay process.',
      ),
  ).action((opts: { url: string; token?: string }) => call(opts, 'POST', '/v1/config/reload'));
  admin(
    cmd
      .command('replay')
      .description('replay dead-lettered records of one sink from dlq.relay through the running relay')
      .argument('<sink>', 'sink id')
      .option('--dry-run', 'report what would be sent, send nothing')
      .option('--from <time>', 'failed at or after (ISO time or ms)')
      .option('--to <time>', 'failed at or before (ISO time or ms)')
      .option('--topic <topic>', 'source topic')
      .option('--partition <n>', 'source partition')
      .option('--from-offset <n>', 'source offset, inclusive')
      .option('--to-offset <n>', 'source offset, inclusive')
      .option('--limit <n>', 'at most this many records (default 1000)'),
  ).action(
    async (
      sink: string,
      opts: { url: string; token?: string } & Record<string, string | boolean | undefined>,
    ) => {
      const { replayBody, watchReplay } = await import('../relay-admin.ts');
      // The POST answers with the report at the end; meanwhile its progress goes to stderr.
      const watching = watchReplay({
        url: opts.url,
        token: opts.token ?? process.env.FERRY_ADMIN_TOKEN,
        print: (line) => console.error(line),
      });
      try {
        await call(
          opts,
          'POST',
          '/v1/dlq/replay',
          replayBody(sink, opts as Parameters<typeof replayBody>[1]),
        );
      } finally {
        watching.stop();
      }
    },
  );
}
