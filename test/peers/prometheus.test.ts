// The real Prometheus peer (scripts/peers/install-prometheus.sh, test/helpers/prometheus.ts):
// Debian's Prometheus scrapes a tiny node:http exposition and the value comes back through
// PromQL; promtool accepts a good exposition and rejects a bad one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { promtool, startPrometheus } from '../helpers/prometheus.js';
import { tmpDir } from '../helpers/paths.js';

const GOOD = [
  '# HELP vpp_peer_test_packets_total Packets seen by the peer test.',
  '# TYPE vpp_peer_test_packets_total counter',
  'vpp_peer_test_packets_total{interface="loop0"} 1234',
  'vpp_peer_test_packets_total{interface="loop1"} 5',
  '# HELP vpp_peer_test_up Whether the peer test is up.',
  '# TYPE vpp_peer_test_up gauge',
  'vpp_peer_test_up 1',
  '',
].join('\n');

test('Prometheus scrapes a node:http exposition and answers PromQL; rules are evaluated', { timeout: 120_000 }, async (t) => {
  let scrapes = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    scrapes++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(GOOD);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const rules = path.join(tmpDir(), 'rules.yml');
  fs.writeFileSync(
    rules,
    [
      'groups:',
      '  - name: peer-test',
      '    rules:',
      '      - record: vpp_peer_test:packets:sum',
      '        expr: sum(vpp_peer_test_packets_total)',
      '',
    ].join('\n'),
  );
  const checked = await promtool(['check', 'rules', rules]);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);

  t.after(() => server.close());
  const t0 = performance.now();
  const prom = await startPrometheus({
    scrapeTargets: [`127.0.0.1:${port}`],
    scrapeIntervalMs: 500,
    ruleFiles: [rules],
    evaluationIntervalMs: 500,
  });
  t.after(() => prom.stop());
  t.diagnostic(`Prometheus at ${prom.url}, ready in ${Math.round(performance.now() - t0)} ms`);

  const t1 = performance.now();
  const r = await prom.waitForSeries('vpp_peer_test_packets_total{interface="loop0"}', 15_000);
  t.diagnostic(`first scraped series after ${Math.round(performance.now() - t1)} ms`);
  assert.equal(r.length, 1);
  assert.equal(r[0].value[1], '1234');
  assert.equal(r[0].metric.job, 'test');
  assert.equal(r[0].metric.instance, `127.0.0.1:${port}`);
  assert.equal(await prom.queryValue(`up{instance="127.0.0.1:${port}"}`), 1);
  assert.equal(await prom.queryValue('count(vpp_peer_test_packets_total)'), 2);
  assert.ok(scrapes >= 1);
  // The recording rule runs on its own evaluation interval.
  await prom.waitForSeries('vpp_peer_test:packets:sum', 15_000);
  assert.equal(await prom.queryValue('vpp_peer_test:packets:sum'), 1239);
});

test('promtool check metrics: a good exposition passes, a bad one fails', async () => {
  const good = await promtool(['check', 'metrics'], { input: GOOD });
  assert.equal(good.code, 0, `good exposition rejected: ${good.stdout}${good.stderr}`);

  // A sample line that is not the text format.
  const broken = await promtool(['check', 'metrics'], { input: 'vpp_peer_test_up{interface="loop0" 1\n' });
  assert.notEqual(broken.code, 0, 'broken exposition accepted');
  assert.match(broken.stdout + broken.stderr, /error|unexpected|invalid/i);

  // Well-formed but against the conventions: a counter without _total and no HELP.
  const lint = await promtool(['check', 'metrics'], { input: '# TYPE vpp_peer_test_packets counter\nvpp_peer_test_packets 1\n' });
  assert.notEqual(lint.code, 0, 'lint problems not reported');
  assert.match(lint.stdout + lint.stderr, /_total|HELP/);
});
