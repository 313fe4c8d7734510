/**
 * The examples of docs/binapi.md, run against the replay server (real VPP 26.10 frames). Each
 * `// #region NAME` block below is the code of the doc's block marked `<!-- region: NAME -->`;
 * the last test checks that the doc still says exactly that, so the doc cannot drift from code
 * that runs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connectVpp, fibPath, formatPrefix, IfStatusFlags, macAddress, prefix, VppApiError } from '../../src/binapi/index.js';
import type { MessageOf, VppClient } from '../../src/binapi/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { ReplayServer } from './replay-server.js';

const DOC = path.join(REPO_ROOT, 'docs', 'binapi.md');
const SELF = path.join(REPO_ROOT, 'test', 'binapi', 'docs-examples.test.ts');

describe('docs/binapi.md examples', () => {
  let server: ReplayServer;
  let client: VppClient;

  before(async () => {
    server = await ReplayServer.start();
    process.env.VPP_API_SOCKET = server.path;
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('connect and show_version', async () => {
    // #region connect
    const socketPath = process.env.VPP_API_SOCKET ?? '/run/vpp/api.sock';
    const vpp = await connectVpp({ socketPath, clientName: 'docs-example' });
    const version = await vpp.showVersion();
    // version.program === 'vpe', version.version === '26.10-rc0~374-gb575ec2c56d'
    // #endregion
    client = vpp;
    assert.equal(version.program, 'vpe');
    assert.equal(version.version, '26.10-rc0~374-gb575ec2c56d');
  });

  it('interface list', async () => {
    const vpp = client;
    // #region interfaces
    const details = await vpp.dump('sw_interface_dump', { sw_if_index: 0xffffffff, name_filter_valid: false, name_filter: '' });
    const interfaces = details.map((i) => ({
      index: i.sw_if_index,
      name: i.interface_name,
      adminUp: (i.flags & IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP) !== 0,
      linkUp: (i.flags & IfStatusFlags.IF_STATUS_API_FLAG_LINK_UP) !== 0,
    }));
    // [{ index: 0, name: 'local0', adminUp: false, linkUp: false },
    //  { index: 1, name: 'loop0', adminUp: true, linkUp: true }, ... 9 in all]
    // #endregion
    assert.equal(interfaces.length, 9);
    assert.deepEqual(interfaces[0], { index: 0, name: 'local0', adminUp: false, linkUp: false });
    assert.deepEqual(interfaces[1], { index: 1, name: 'loop0', adminUp: true, linkUp: true });
    assert.deepEqual(
      interfaces.map((i) => i.name),
      ['local0', 'loop0', 'loop2', 'loop3', 'host-vpp-veth0', 'host-vpp-veth0.100', 'memif1/0', 'memif2/0', 'loop4'],
    );
  });

  it('events: want_interface_events, then set flags', async () => {
    const vpp = client;
    // #region events
    const events: MessageOf<'sw_interface_event'>[] = [];
    const unsubscribe = vpp.subscribe('sw_interface_event', (e) => events.push(e));
    await vpp.wantInterfaceEvents(); // re-made by the client after every reconnect

    // Admin down, then up (sw_interface_set_flags); VPP reports each change as an event.
    await vpp.request('sw_interface_set_flags', { sw_if_index: 1, flags: 0 });
    await vpp.request('sw_interface_set_flags', { sw_if_index: 1, flags: IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP });
    // events: [{ sw_if_index: 1, flags: 0, ... }, { sw_if_index: 1, flags: 3, ... }]
    // #endregion
    await server.until(() => events.length === 2, 2000, 'the events');
    assert.deepEqual(
      events.map((e) => [e.sw_if_index, e.flags]),
      [
        [1, 0],
        [1, 3],
      ],
    );
    unsubscribe();
  });

  it('create a loopback, set it up, add an address and a route', async () => {
    const vpp = client;
    // #region configure
    const { sw_if_index } = await vpp.request('create_loopback', { mac_address: macAddress('de:ad:00:00:00:42') });

    await vpp.request('sw_interface_set_flags', { sw_if_index, flags: IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP });

    await vpp.request('sw_interface_add_del_address', { sw_if_index, is_add: true, del_all: false, prefix: prefix('10.77.0.1/24') });

    const route = await vpp.request('ip_route_add_del', {
      is_add: true,
      is_multipath: false,
      route: {
        table_id: 0,
        stats_index: 0,
        prefix: prefix('10.78.0.0/16'),
        paths: [fibPath({ via: '10.77.0.2', sw_if_index })],
      },
    });
    // sw_if_index === 2, route.stats_index === 138
    // #endregion
    assert.equal(sw_if_index, 2);
    assert.equal(route.stats_index, 138);
    const addrs = await vpp.dump('ip_address_dump', { sw_if_index, is_ipv6: false });
    assert.deepEqual(
      addrs.map((a) => formatPrefix(a.prefix)),
      ['10.77.0.1/24'],
    );
  });

  it('errors', async () => {
    const vpp = client;
    // #region errors
    let failure: VppApiError | undefined;
    try {
      await vpp.request('sw_interface_set_flags', { sw_if_index: 9999, flags: IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP });
    } catch (e) {
      // Anything else is a ConnectionError (e.code NOT_CONNECTED, DISCONNECTED, TIMEOUT,
      // MESSAGE_UNAVAILABLE, ...; e.retriable) or, for a value that does not fit, a CodecError.
      if (!(e instanceof VppApiError)) throw e;
      failure = e;
    }
    // failure.retval === -2, failure.vppName === 'INVALID_SW_IF_INDEX', failure.message ===
    // 'sw_interface_set_flags: Invalid sw_if_index (VNET_API_ERROR_INVALID_SW_IF_INDEX, -2)'
    // #endregion
    assert.ok(failure !== undefined);
    assert.equal(failure.retval, -2);
    assert.equal(failure.vppName, 'INVALID_SW_IF_INDEX');
    assert.equal(failure.message, 'sw_interface_set_flags: Invalid sw_if_index (VNET_API_ERROR_INVALID_SW_IF_INDEX, -2)');
    assert.equal(vpp.stats.apiErrors, 1);
  });

  it('a batch of route adds, one refused by VPP', async () => {
    const vpp = client;
    const sw_if_index = 2; // the loopback made above
    const apiErrors = vpp.stats.apiErrors;
    // #region batch
    const wanted = [
      { prefix: '10.78.0.0/16', table_id: 0 },
      { prefix: '10.79.0.0/16', table_id: 77 }, // VPP has no table 77
    ];
    const result = await vpp.requestBatch(
      'ip_route_add_del',
      wanted.map((r) => ({
        is_add: true,
        is_multipath: false,
        route: { table_id: r.table_id, stats_index: 0, prefix: prefix(r.prefix), paths: [fibPath({ via: '10.77.0.2', sw_if_index })] },
      })),
    );
    const failures = wanted.flatMap((r, i) => (result.errors[i] === undefined ? [] : [`${r.prefix}: ${result.errors[i].message}`]));
    // result.succeeded === 1, result.failed === 1, result.retvals: Int32Array [0, -3],
    // failures: ['10.79.0.0/16: ip_route_add_del: No such FIB / VRF (VNET_API_ERROR_NO_SUCH_FIB, -3)']
    // #endregion
    assert.deepEqual([result.count, result.succeeded, result.failed], [2, 1, 1]);
    assert.deepEqual([...result.retvals], [0, -3]);
    assert.ok(result.errors[1] instanceof VppApiError && result.errors[1].vppName === 'NO_SUCH_FIB');
    assert.deepEqual(failures, ['10.79.0.0/16: ip_route_add_del: No such FIB / VRF (VNET_API_ERROR_NO_SUCH_FIB, -3)']);
    assert.equal(vpp.stats.apiErrors - apiErrors, 1);
  });

  it('resync after a reconnect', async () => {
    const vpp = client;
    const warnings: string[] = [];
    const log = { warn: (msg: string): void => void warnings.push(msg) };
    // #region resync
    const resyncs: number[] = [];
    vpp.on('connected', (info) => {
      if (!info.reconnect) return;
      // want_* subscriptions are already re-made here: read the true state, then emit differences.
      vpp.dump('sw_interface_dump', { sw_if_index: 0xffffffff, name_filter_valid: false, name_filter: '' }).then(
        (now) => resyncs.push(now.length),
        (e: unknown) => log.warn(`resync failed: ${String(e)}`),
      );
    });
    vpp.on('disconnected', (info) => log.warn(`VPP API connection lost (${info.error.message}); reconnecting`));
    // #endregion
    server.dropAll();
    await server.until(() => resyncs.length === 1, 3000, 'the resync');
    assert.deepEqual(resyncs, [9]);
    assert.match(warnings[0], /^VPP API connection lost \(.*\); reconnecting$/);
  });

  it('stats and close', async () => {
    const vpp = client;
    // #region close
    const { requests, timeouts, reconnects, inFlight } = vpp.stats;
    await vpp.close(); // sockclnt_delete, then the socket is closed
    // #endregion
    assert.ok(requests >= 9);
    assert.deepEqual([timeouts, reconnects, inFlight], [0, 1, 0]);
    assert.deepEqual(server.violations, []);
    assert.deepEqual(server.unmatched, []);
  });

  it('the doc shows exactly these blocks', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    const self = fs.readFileSync(SELF, 'utf8');
    const regions = new Map<string, string>();
    for (const m of self.matchAll(/^([ \t]*)\/\/ #region (\S+)\n([\s\S]*?)^[ \t]*\/\/ #endregion$/gm)) {
      const indent = m[1];
      regions.set(
        m[2],
        m[3]
          .split('\n')
          .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()))
          .join('\n')
          .trimEnd(),
      );
    }
    const blocks = [...doc.matchAll(/<!-- region: (\S+) -->\n```ts\n([\s\S]*?)\n```/g)];
    assert.deepEqual(
      blocks.map((b) => b[1]),
      ['connect', 'interfaces', 'events', 'resync', 'configure', 'errors', 'batch', 'close'],
    );
    for (const [, name, code] of blocks) assert.equal(code, regions.get(name), `docs/binapi.md block ${name}`);
  });
});
