// Runs the compiled test files with node's test runner. Tests live in test/ (TypeScript),
// compiled by `npm run build:ts` into dist/test/. Pass file globs to run a subset.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const files = [];
function walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js')) files.push(p);
  }
}
walk(path.join(root, 'dist', 'test'));
const selected = args.length ? files.filter((f) => args.some((a) => f.includes(a))) : files;
if (selected.length === 0) {
  console.error('run-tests: no compiled tests found (run npm run build first)');
  process.exit(1);
}
selected.sort();
// One file at a time: several suites start simulators, brokers and servers on fixed resources.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...selected], {
  stdio: 'inherit',
  cwd: root,
  // Tests assert on behaviour, not log lines; keep the runner's output readable.
  env: { VPP_EXPORTER_LOG_LEVEL: 'warn', ...process.env },
});
process.exit(r.status ?? 1);
