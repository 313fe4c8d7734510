/**
 * Compile-time checks of the public types: the misuse below must not type-check (each line is
 * marked @ts-expect-error, so `tsc` fails if one of them ever compiles). The function is never
 * called; the test only makes sure the file is part of the build.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { DetailsOf, DumpName, EventName, ReplyOf, RequestName, VppClient, WantName } from '../../src/binapi/index.js';

async function misuse(vpp: VppClient): Promise<void> {
  // @ts-expect-error a dump is not a request
  await vpp.request('sw_interface_dump', { sw_if_index: 0, name_filter_valid: false, name_filter: '' });
  // @ts-expect-error a request is not a dump
  await vpp.dump('show_version', {});
  // @ts-expect-error a field is missing
  await vpp.request('sw_interface_set_flags', { sw_if_index: 1 });
  // @ts-expect-error a field of the wrong type
  await vpp.request('sw_interface_set_flags', { sw_if_index: '1', flags: 0 });
  // @ts-expect-error client_index and context are the connection's
  await vpp.request('show_version', { context: 1 });
  // @ts-expect-error not an event
  vpp.subscribe('show_version_reply', () => undefined);
  // @ts-expect-error not a want_* request
  await vpp.want('show_version', {});

  const reply = await vpp.request('ip_route_add_del', {
    is_add: true,
    is_multipath: false,
    route: { table_id: 0, stats_index: 0, prefix: { address: { af: 0, un: Buffer.alloc(16) }, len: 0 }, paths: [] },
  });
  const n: number = reply.stats_index;
  const details = await vpp.dump('sw_interface_dump', { sw_if_index: 0xffffffff, name_filter_valid: false, name_filter: '' });
  const name: string = details[0].interface_name;
  vpp.subscribe('sw_interface_event', (e) => {
    const flags: number = e.flags;
    void flags;
  });
  void n;
  void name;
}

// Type-level spot checks.
const r: RequestName = 'sw_interface_set_flags';
const d: DumpName = 'ip_route_dump';
const e: EventName = 'sw_interface_event';
const w: WantName = 'want_interface_events';
const version: ReplyOf<'show_version'>['version'] = '26.10';
const len: DetailsOf<'ip_address_dump'>['prefix']['len'] = 24;

it('the public types reject misuse (checked by tsc)', () => {
  assert.equal(typeof misuse, 'function');
  assert.deepEqual([r, d, e, w, version, len], ['sw_interface_set_flags', 'ip_route_dump', 'sw_interface_event', 'want_interface_events', '26.10', 24]);
});
