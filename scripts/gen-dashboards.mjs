// Writes the Grafana dashboards (dashboards/*.json), the alert rules (alerts/vpp-exporter.rules.yml)
// and their docs (docs/dashboards.md, docs/alerts.md) from src/dashboards/*.ts.
// Run after `npm run build:ts`: node scripts/gen-dashboards.mjs [--check]
// --check writes nothing and exits 1 naming every file that differs from what would be generated.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const { generatedFiles } = await import(path.join(root, 'dist/src/dashboards/index.js'));

const check = process.argv.includes('--check');
const stale = [];
for (const f of generatedFiles()) {
  const file = path.join(root, f.path);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (current === f.content) continue;
  if (check) {
    stale.push(f.path);
  } else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, f.content);
    console.log(`wrote ${f.path}`);
  }
}
if (stale.length) {
  console.error(`out of date (run node scripts/gen-dashboards.mjs): ${stale.join(', ')}`);
  process.exit(1);
}
