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
    .addHelpText('after', '\nExit code 2 and one `path: problem` line per error when the config is invalid.')
    .action(async (file: string) => {
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
      console.log(`config ${file} is valid`);
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
}
