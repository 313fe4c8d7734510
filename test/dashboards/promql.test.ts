/** The lexical PromQL reader the dashboard and rule checks rely on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparisonOperands, isLiteral, metricNames, tokenize } from '../../src/dashboards/index.js';

test('metricNames finds metrics, not functions, aggregations, label lists, strings or ranges', () => {
  assert.deepEqual(metricNames('up'), ['up']);
  assert.deepEqual(
    metricNames('topk(15, sum by (instance, node) (rate(vpp_node_vectors_total{instance=~"$instance", node=~"a|b"}[$__rate_interval])) / (sum by (instance, node) (rate(vpp_node_calls_total[5m])) > 0))'),
    ['vpp_node_calls_total', 'vpp_node_vectors_total'],
  );
  assert.deepEqual(metricNames('a == 1 and on (instance, job, sw_if_index) b == 0'), ['a', 'b']);
  assert.deepEqual(metricNames('x / ignoring(node) group_left(pool) y'), ['x', 'y']);
  assert.deepEqual(metricNames('time() - vpp_boot_time_seconds offset 5m'), ['vpp_boot_time_seconds']);
  assert.deepEqual(metricNames('label_replace(m, "dst", "$1", "src", "(.*)")'), ['m']);
  assert.deepEqual(metricNames('sum without (thread) (rate(c[1h])) * 2 > bool 1'), ['c']);
  assert.deepEqual(metricNames('count(m{a="}{"}) # a comment naming other_metric'), ['m']);
});

test('comparisonOperands splits at top-level comparisons and set operators, with their modifiers', () => {
  assert.deepEqual(comparisonOperands('vpp_up == 0'), ['vpp_up', '0']);
  assert.deepEqual(comparisonOperands('changes(h[2m]) == 0\nand on (instance, job)\nvpp_up == 1'), ['changes(h[2m])', '0', 'vpp_up', '1']);
  assert.deepEqual(comparisonOperands('a / (b + c) < 0.3'), ['a / (b + c)', '0.3']);
  assert.deepEqual(comparisonOperands('(a > 1) / b'), ['(a > 1) / b']);
  assert.deepEqual(comparisonOperands('x < 0.25 * (y) and (y) > 16'), ['x', '0.25 * (y)', '(y)', '16']);
  assert.deepEqual(comparisonOperands('m{a=~"x|y", b!~"<z>"} >= bool 2'), ['m{a=~"x|y", b!~"<z>"}', '2']);
  assert.deepEqual(comparisonOperands('a unless ignoring (x) b or c'), ['a', 'b', 'c']);
  assert.ok(isLiteral('0.25') && isLiteral('1e3') && isLiteral('-2') && !isLiteral('0.25 * y') && !isLiteral('vector(1)'));
});

test('tokenize rejects what cannot be PromQL', () => {
  assert.throws(() => tokenize('sum(rate(x[5m])'), /unbalanced/);
  assert.throws(() => tokenize('x{a="b}'), /unterminated|unclosed/);
});
