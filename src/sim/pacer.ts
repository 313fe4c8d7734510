/**
 * Runs a step about `hz` times a second, catching up by elapsed time so that the average rate holds
 * whatever the timer granularity. Up to 1 kHz a timer suffices; above that (torture mode wants ~10
 * kHz) steps run in setImmediate turns, which keeps one core busy on purpose but still lets I/O and
 * other timers in between. Steps stay spread out: a turn runs at most hz/2,500 of them (four at
 * 10 kHz), and a pacer that falls further behind (its process was not scheduled) drops the missed
 * steps instead of bursting them - a burst of relocations gives a concurrent reader long quiet gaps.
 */
export interface Pacer {
  stop(): void;
  /** Steps run so far. */
  readonly steps: number;
}

const TIMER_MAX_HZ = 1000;

export function startPacer(hz: number, step: () => void): Pacer {
  if (!(hz > 0) || !Number.isFinite(hz)) throw new RangeError(`pacer rate must be > 0, got ${hz}`);
  const start = performance.now();
  const maxBurst = Math.max(1, Math.ceil(hz / 2_500));
  let done = 0;
  let ran = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;

  const runDue = (): void => {
    const due = Math.floor(((performance.now() - start) * hz) / 1000);
    if (due - done > maxBurst) done = due - maxBurst;
    while (done < due && !stopped) {
      step();
      done++;
      ran++;
    }
  };

  if (hz <= TIMER_MAX_HZ) {
    timer = setInterval(runDue, Math.max(1, Math.floor(1000 / hz)));
  } else {
    const turn = (): void => {
      if (stopped) return;
      runDue();
      immediate = setImmediate(turn);
    };
    immediate = setImmediate(turn);
  }

  return {
    stop(): void {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      if (immediate !== undefined) clearImmediate(immediate);
    },
    get steps(): number {
      return ran;
    },
  };
}
