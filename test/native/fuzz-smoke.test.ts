// Smoke test for the stats segment reader's fuzzer: scripts/fuzz.sh builds the libFuzzer target
// (native/fuzz/fuzz_statseg.cc) under ASan + UBSan, installing clang from Debian if needed, and
// fuzzes for 30 s. It fails (never skips) when the toolchain is missing and cannot be installed,
// when the build fails, or when the fuzzer finds a crash. See docs/fuzzing.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

const SECONDS = 30;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

// Up to ~2 min for apt-get on a fresh machine, a few seconds to build, 30 s of fuzzing plus the
// initial corpus pass.
test('fuzz.sh: the stats segment reader survives 30 s of libFuzzer under ASan + UBSan', { timeout: 6 * 60_000 }, async () => {
  // A fresh corpus per run keeps the duration predictable (a long campaign's corpus takes a while
  // to replay); the seeds and native/fuzz/regressions are still replayed first.
  const corpus = fs.mkdtempSync(path.join(os.tmpdir(), 'vpp-fuzz-corpus-'));
  try {
    const { code, out } = await run('bash', [path.join(REPO_ROOT, 'scripts', 'fuzz.sh'), String(SECONDS)], {
      ...process.env,
      FUZZ_CORPUS: corpus,
    });
    const tail = out.split('\n').slice(-40).join('\n');
    assert.equal(code, 0, `scripts/fuzz.sh exited ${code}:\n${tail}`);
    const m = /^executions: (\d+)$/m.exec(out);
    assert.ok(m, `no "executions: N" line in the output:\n${tail}`);
    assert.ok(Number(m[1]) > 0, `no executions reported:\n${tail}`);
    assert.match(out, /^#\d+\s+DONE\s+cov: \d+ ft: \d+/m, `no libFuzzer stats line:\n${tail}`);
  } finally {
    fs.rmSync(corpus, { recursive: true, force: true });
  }
});
