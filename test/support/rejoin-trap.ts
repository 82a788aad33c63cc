// Preloaded into a relay child process (`node --import`) by relay-rejoin.test.ts. When the file named by
// FERRY_TEST_REJOIN_TRAP exists at the moment the relay's Kafka consumer starts a JoinGroup, it reads the
// broker's pid from it, deletes it, SIGSTOPs the broker's process group and writes `<file>.fired`, all
// synchronously in the diagnostics-channel `start` event, before the request goes out. So the client's
// background rejoin (after the broker said "unknown member") meets a broker that has just gone away:
// the exact moment the client gives up on its membership for good. Fires once per arming.
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { consumerGroupChannel } from '@platformatic/kafka';

const armFile = process.env.FERRY_TEST_REJOIN_TRAP;
if (armFile) {
  const noop = () => {};
  consumerGroupChannel.subscribe({
    start(context: unknown) {
      if ((context as { operation?: string }).operation !== 'joinGroup' || !existsSync(armFile)) return;
      const pid = Number.parseInt(readFileSync(armFile, 'utf8').trim(), 10);
      unlinkSync(armFile);
      try {
        process.kill(-pid, 'SIGSTOP');
        writeFileSync(`${armFile}.fired`, `${Date.now()}\n`);
      } catch (error) {
        writeFileSync(`${armFile}.fired`, `error ${String(error)}\n`);
      }
    },
    end: noop,
    asyncStart: noop,
    asyncEnd: noop,
    error: noop,
  });
}
