// A process that appends to a spool as fast as it can and prints every offset once its append has
// resolved (= fsynced), for the kill -9 test: node spool-child.js <dir> <maxBytes>
// stdout is a pipe, which Node writes synchronously on Linux: a printed line left this process
// before the next append started.
import { Spool } from '../../src/sink/spool.js';

const [dir, maxBytes] = process.argv.slice(2);
const spool = await Spool.open({ dir: dir, maxBytes: Number(maxBytes ?? 64 * 1024 * 1024), segmentBytes: 256 * 1024 });
process.stdout.write(`ready ${spool.stats.nextOffset}\n`);
let n = 0;
for (;;) {
  const batch = Array.from({ length: 1 + (n % 50) }, (_, i) => Buffer.from(`payload-${n}-${i}-${'x'.repeat((n * 7 + i) % 300)}`));
  const r = await spool.append(batch);
  if (r.accepted > 0) {
    let line = '';
    for (let i = 0; i < r.accepted; i++) line += `${r.firstOffset! + i} ${batch[i].toString()}\n`;
    process.stdout.write(line);
  }
  n++;
}
