/** Locations tests read: the repository root and ../shared beside it (read in place). */
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

// dist/test/helpers -> repository root
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SHARED = process.env.VPP_EXPORTER_SHARED ?? path.resolve(REPO_ROOT, '..', 'shared');
export const FIXTURES = path.join(SHARED, 'fixtures', 'vpp-26.10');
export const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the process exits. */
export function tmpDir(prefix = 'vpp-exporter-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Gunzip a fixture segment image into a temporary file and return its path. */
export function fixtureImage(name: 'statseg' | 'statseg-churn'): string {
  const out = path.join(tmpDir(), `${name}.bin`);
  fs.writeFileSync(out, zlib.gunzipSync(fs.readFileSync(path.join(FIXTURES, `${name}.bin.gz`))));
  return out;
}
