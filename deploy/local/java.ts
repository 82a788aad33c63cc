// Shared bits for the two JVM services: the java binary, small heaps (the machine has 2 cores),
// a log4j2 config that writes to stdout (which goes to .ferry/logs/<name>.log).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATHS } from './config.ts';

export const JAVA = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';

export function jvmArgs({ heap = '512m', name }: { heap?: string; name: string }): string[] {
  return [
    '-Xms128m',
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${writeLog4j(name)}`,
    `-Dferry.service=${name}`,
  ];
}

export const classpath = (): string => `${PATHS.kafkaJars}/*`;

/** Properties-file text from a flat record. */
export const properties = (values: Record<string, string | number | boolean>): string =>
  `${Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;

function writeLog4j(name: string): string {
  const file = join(PATHS.conf, `${name}-log4j2.properties`);
  writeFileSync(
    file,
    [
      'status = warn',
      'appender.console.type = Console',
      'appender.console.name = STDOUT',
      'appender.console.layout.type = PatternLayout',
      'appender.console.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.stdout.ref = STDOUT',
      'logger.kafka.name = kafka',
      'logger.kafka.level = WARN',
      'logger.state.name = state.change.logger',
      'logger.state.level = WARN',
      'logger.clients.name = org.apache.kafka.clients',
      'logger.clients.level = WARN',
      'logger.reflections.name = org.reflections',
      'logger.reflections.level = ERROR',
      'logger.kafkaserver.name = kafka.server.KafkaRaftServer',
      'logger.kafkaserver.level = INFO',
      '',
    ].join('\n'),
  );
  return file;
}
