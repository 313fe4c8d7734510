/** The recorded VPP 26.10 binary API sessions (../shared/fixtures/vpp-26.10/api-session-*.json). */
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '../helpers/paths.js';

export interface Frame {
  readonly index: number;
  readonly dir: 'c2s' | 's2c';
  readonly header: Buffer;
  readonly body: Buffer;
  readonly msgId: number;
  /** `<name>_<crc>` as recorded. */
  readonly name: string;
}

export type SessionName = 'api-session-basic' | 'api-session-config';
export const SESSIONS: readonly SessionName[] = ['api-session-basic', 'api-session-config'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export function loadSession(name: SessionName): Frame[] {
  const raw: unknown = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
  if (!isRecord(raw) || !Array.isArray(raw.frames)) throw new Error(`${name}: no frames`);
  return raw.frames.map((f: unknown, index: number): Frame => {
    if (
      !isRecord(f) ||
      (f.dir !== 'c2s' && f.dir !== 's2c') ||
      typeof f.header !== 'string' ||
      typeof f.body !== 'string' ||
      typeof f.msg_id !== 'number' ||
      typeof f.name !== 'string'
    ) {
      throw new Error(`${name}: bad frame ${index}`);
    }
    return {
      index,
      dir: f.dir,
      header: Buffer.from(f.header, 'hex'),
      body: Buffer.from(f.body, 'hex'),
      msgId: f.msg_id,
      name: f.name,
    };
  });
}

/** `sw_interface_details_6c221fc7` -> `sw_interface_details`. */
export function baseName(nameCrc: string): string {
  return nameCrc.replace(/_[0-9a-f]{8}$/, '');
}
