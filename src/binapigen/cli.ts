#!/usr/bin/env node
/**
 * binapigen: generates src/binapi/generated/ from VPP's .api.json files.
 *
 *   node dist/src/binapigen/cli.js --input ../shared/vpp/api --output src/binapi/generated \
 *     [--modules memclnt,vpe,...] [--vpp-version 26.10-...] [--codec-import ../codec/index.js]
 *
 * Repeated flags: the last one wins (so `npm run generate:binapi -- --output DIR` redirects).
 * Exit codes: 0 ok, 2 bad usage, 1 generation failed.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate, writeGenerated, DEFAULT_MODULES } from './generate.js';

const USAGE = `usage: binapigen --input DIR --output DIR [--modules a,b,c] [--vpp-version V] [--codec-import SPEC]
  --input         folder searched recursively for *.api.json
  --output        folder the TypeScript goes to (stale generated files there are removed)
  --modules       API modules to generate, plus what they import (default: ${DEFAULT_MODULES.join(',')})
  --vpp-version   the VPP release the .api.json files come from, written in each file's first line
  --codec-import  import specifier of the codec from the output folder (default ../codec/index.js)`;

interface CliArgs {
  input: string;
  output: string;
  modules: string[] | undefined;
  vppVersion: string | undefined;
  codecImport: string | undefined;
}

class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): CliArgs {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-h' || a === '--help') throw new UsageError('');
    const eq = a.indexOf('=');
    const [key, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (!['--input', '--output', '--modules', '--vpp-version', '--codec-import'].includes(key)) {
      throw new UsageError(`unknown argument ${a}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${key} needs a value`);
    flags.set(key, value);
  }
  const input = flags.get('--input');
  const output = flags.get('--output');
  if (!input || !output) throw new UsageError('--input and --output are required');
  const modules = flags.get('--modules')?.split(',').map((m) => m.trim()).filter((m) => m.length > 0);
  return { input, output, modules, vppVersion: flags.get('--vpp-version'), codecImport: flags.get('--codec-import') };
}

export function main(argv: readonly string[]): number {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) process.stderr.write(`binapigen: ${e.message}\n`);
      process.stderr.write(`${USAGE}\n`);
      return e.message ? 2 : 0;
    }
    throw e;
  }
  try {
    const files = generate({
      input: args.input,
      modules: args.modules,
      vppVersion: args.vppVersion ?? null,
      codecImport: args.codecImport,
    });
    const { written, removed } = writeGenerated(args.output, files);
    process.stderr.write(`binapigen: ${written.length} files in ${args.output}${removed.length ? `, removed ${removed.join(', ')}` : ''}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`binapigen: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** Run as a program (also through a symlinked path), not when imported by the tests. */
function isEntryPoint(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return fs.realpathSync(argv1) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = main(process.argv.slice(2));
}
