// Live progress for the demo: one refreshing line on a terminal, a plain line every few seconds
// otherwise (CI logs). Notes from the runners and the relay are printed above the progress line.
export interface ProgressSnapshot {
  generated: number;
  cdc: number;
  clean: number;
  dlqTransform: number;
  dlqRelay: number;
  sinks: ReadonlyArray<{
    id: string;
    delivered: number;
    deduplicated: number;
    deadLettered: number;
    retried: number;
  }>;
}

export function createProgress(say: (line: string) => void, tty = process.stdout.isTTY === true) {
  let shown = false;
  let ticks = 0;
  let muted = false;
  const clear = () => {
    if (tty && shown) process.stdout.write('\r\x1b[2K');
    shown = false;
  };
  return {
    line(s: ProgressSnapshot) {
      const sinks = s.sinks.map((k) => `${k.id} ${k.delivered + k.deduplicated}`).join(' ');
      const text =
        `generated ${s.generated} | cdc ${s.cdc} | clean ${s.clean} dlq.transform ${s.dlqTransform} | ` +
        `delivered: ${sinks} | dlq.relay ${s.dlqRelay} retries ${s.sinks.reduce((n, k) => n + k.retried, 0)}`;
      if (tty) {
        clear();
        process.stdout.write(text);
        shown = true;
      } else if (ticks++ % 3 === 0) {
        say(`   ${text}`);
      }
    },
    note(text: string) {
      if (muted) return;
      clear();
      say(`   ${text}`);
    },
    /** Stops printing notes (shutdown chatter after the accounting). */
    mute() {
      this.done();
      muted = true;
    },
    done() {
      if (tty && shown) process.stdout.write('\n');
      shown = false;
    },
  };
}
