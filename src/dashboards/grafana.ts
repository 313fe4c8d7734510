/**
 * Grafana dashboard JSON (the classic model, schemaVersion 39: Grafana 11 and later migrate it on
 * load) from compact specs: rows of panels laid out left to right on the 24-column grid, every
 * query on the `${datasource}` variable, so no UID of anyone's Grafana is written down. The types
 * are the subset of @grafana/schema's Dashboard that the dashboards use (a test checks that they
 * fit that package's types).
 */

export const SCHEMA_VERSION = 39;
export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface DataSourceRef {
  type: string;
  uid: string;
}

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export interface Threshold {
  color: string;
  value: number | null;
}

export interface ValueMapping {
  type: 'value';
  options: Record<string, { text: string; color: string; index: number }>;
}

export interface FieldConfigSource {
  defaults: {
    unit?: string;
    min?: number;
    max?: number;
    decimals?: number;
    color: { mode: 'palette-classic' | 'thresholds' | 'fixed'; fixedColor?: string };
    thresholds: { mode: 'absolute' | 'percentage'; steps: Threshold[] };
    mappings: ValueMapping[];
    custom?: Record<string, unknown>;
  };
  overrides: { matcher: { id: string; options?: unknown }; properties: { id: string; value?: unknown }[] }[];
}

/** A type, not an interface: Grafana's targets are records, which an interface does not fit. */
export type Target = {
  datasource: DataSourceRef;
  refId: string;
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
  format?: 'time_series' | 'table';
  editorMode: 'code';
};

export interface Panel {
  id: number;
  type: 'timeseries' | 'stat' | 'gauge' | 'table' | 'bargauge';
  title: string;
  description: string;
  datasource: DataSourceRef;
  gridPos: GridPos;
  targets: Target[];
  fieldConfig: FieldConfigSource;
  options: Record<string, unknown>;
  transformations?: { id: string; options: Record<string, unknown> }[];
}

export interface RowPanel {
  id: number;
  type: 'row';
  title: string;
  collapsed: boolean;
  gridPos: GridPos;
  panels: Panel[];
}

export interface Variable {
  name: string;
  label: string;
  type: 'datasource' | 'query';
  description: string;
  query: string | { query: string; refId: string; qryType: number };
  definition?: string;
  datasource?: DataSourceRef;
  current: { text: string; value: string };
  options: [];
  hide: 0;
  refresh: 1 | 2;
  regex: string;
  sort?: 1;
  multi: boolean;
  includeAll: boolean;
  allValue?: string;
  skipUrlSync: boolean;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  schemaVersion: number;
  version: number;
  editable: boolean;
  graphTooltip: 1;
  timezone: string;
  time: { from: string; to: string };
  refresh: string;
  fiscalYearStartMonth: number;
  liveNow: boolean;
  weekStart: string;
  links: { title: string; type: 'dashboards'; tags: string[]; asDropdown: boolean; icon: string; includeVars: boolean; keepTime: boolean; tooltip: string; url: string; targetBlank: boolean }[];
  annotations: { list: { builtIn: number; datasource: DataSourceRef; enable: boolean; hide: boolean; iconColor: string; name: string; type: string }[] };
  templating: { list: Variable[] };
  panels: (Panel | RowPanel)[];
}

// --- specs ---------------------------------------------------------------------------------------

export interface QuerySpec {
  expr: string;
  legend?: string;
  /** Instant query (tables, bar gauges); range by default. */
  instant?: boolean;
}

export interface PanelSpec {
  title: string;
  /** What it shows and how to read it; also the panel's description in Grafana and docs/dashboards.md. */
  description: string;
  kind: Panel['type'];
  queries: QuerySpec[];
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  /** Steps after the base color; with `thresholdsStyle` they are drawn on time series. */
  thresholds?: { base: string; steps: Threshold[] };
  thresholdsStyle?: 'line' | 'dashed' | 'area' | 'line+area' | 'dashed+area';
  /** Value -> text for stat panels (0 -> DOWN). */
  mappings?: Record<string, { text: string; color: string }>;
  stack?: boolean;
  /** Soft axis maximum for time series. */
  softMax?: number;
  /** Stat panels: show the series name (a label such as the version) instead of the value. */
  showName?: boolean;
  w?: number;
  h?: number;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface VariableSpec {
  name: string;
  label: string;
  description: string;
  /** label_values(...) query. */
  query: string;
  multi?: boolean;
}

export interface DashboardSpec {
  uid: string;
  /** File name under dashboards/. */
  file: string;
  title: string;
  description: string;
  tags: string[];
  /** Variables after datasource and instance. */
  variables?: VariableSpec[];
  rows: RowSpec[];
}

const TAG = 'vpp';
const GRID_WIDTH = 24;

export const DATASOURCE_VARIABLE: Variable = {
  name: 'datasource',
  label: 'Data source',
  type: 'datasource',
  description: 'The Prometheus that scrapes vpp-exporter.',
  query: 'prometheus',
  current: { text: 'default', value: 'default' },
  options: [],
  hide: 0,
  refresh: 1,
  regex: '',
  multi: false,
  includeAll: false,
  skipUrlSync: false,
};

export function queryVariable(v: VariableSpec): Variable {
  return {
    name: v.name,
    label: v.label,
    type: 'query',
    description: v.description,
    datasource: DATASOURCE,
    query: { query: v.query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
    definition: v.query,
    current: { text: 'All', value: '$__all' },
    options: [],
    hide: 0,
    refresh: 2,
    regex: '',
    sort: 1,
    multi: v.multi ?? true,
    includeAll: true,
    allValue: '.+',
    skipUrlSync: false,
  };
}

export const INSTANCE_VARIABLE = queryVariable({
  name: 'instance',
  label: 'Instance',
  description: 'vpp-exporter targets (instance label of vpp_up).',
  query: 'label_values(vpp_up, instance)',
});


function fieldConfig(p: PanelSpec): FieldConfigSource {
  const custom: Record<string, unknown> = {};
  if (p.kind === 'timeseries') {
    custom.drawStyle = 'line';
    custom.lineWidth = 1;
    custom.fillOpacity = p.stack ? 30 : 10;
    custom.showPoints = 'never';
    custom.spanNulls = false;
    custom.stacking = { mode: p.stack ? 'normal' : 'none', group: 'A' };
    custom.thresholdsStyle = { mode: p.thresholdsStyle ?? 'off' };
    if (p.softMax !== undefined) custom.axisSoftMax = p.softMax;
    custom.axisSoftMin = 0;
  }
  const mappings: ValueMapping[] = p.mappings
    ? [{ type: 'value', options: Object.fromEntries(Object.entries(p.mappings).map(([v, m], index) => [v, { ...m, index }])) }]
    : [];
  const defaults: FieldConfigSource['defaults'] = {
    color: { mode: p.thresholds && p.kind !== 'timeseries' ? 'thresholds' : 'palette-classic' },
    thresholds: { mode: 'absolute', steps: [{ color: p.thresholds?.base ?? 'green', value: null }, ...(p.thresholds?.steps ?? [])] },
    mappings,
  };
  if (Object.keys(custom).length) defaults.custom = custom;
  if (p.unit !== undefined) defaults.unit = p.unit;
  if (p.min !== undefined) defaults.min = p.min;
  if (p.max !== undefined) defaults.max = p.max;
  if (p.decimals !== undefined) defaults.decimals = p.decimals;
  return { defaults, overrides: [] };
}

function options(p: PanelSpec): Record<string, unknown> {
  const reduce = { calcs: ['lastNotNull'], fields: '', values: false };
  switch (p.kind) {
    case 'timeseries':
      return {
        legend: { displayMode: 'table', placement: 'right', showLegend: true, calcs: ['mean', 'max', 'lastNotNull'] },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
    case 'stat':
      return { reduceOptions: reduce, colorMode: 'value', graphMode: p.showName ? 'none' : 'area', justifyMode: 'auto', orientation: 'auto', textMode: p.showName ? 'name' : 'auto' };
    case 'gauge':
      return { reduceOptions: reduce, showThresholdLabels: false, showThresholdMarkers: true, orientation: 'auto' };
    case 'bargauge':
      return { reduceOptions: { ...reduce, values: true }, displayMode: 'gradient', orientation: 'horizontal', showUnfilled: true, valueMode: 'color' };
    case 'table':
      return { showHeader: true, cellHeight: 'sm', sortBy: [{ displayName: 'Value', desc: true }] };
  }
}

function target(q: QuerySpec, i: number, kind: Panel['type']): Target {
  const t: Target = {
    datasource: DATASOURCE,
    refId: String.fromCharCode(65 + i),
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    range: !q.instant,
    instant: q.instant ?? false,
    editorMode: 'code',
  };
  if (kind === 'table') t.format = 'table';
  return t;
}

function panel(p: PanelSpec, id: number, gridPos: GridPos): Panel {
  if (p.queries.length === 0 || p.queries.length > 26) throw new RangeError(`panel ${p.title}: 1 to 26 queries`);
  const out: Panel = {
    id,
    type: p.kind,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos,
    targets: p.queries.map((q, i) => target(q, i, p.kind)),
    fieldConfig: fieldConfig(p),
    options: options(p),
  };
  if (p.kind === 'table') {
    out.transformations = [{ id: 'organize', options: { excludeByName: { Time: true }, indexByName: {}, renameByName: {} } }];
  }
  return out;
}

export function buildDashboard(spec: DashboardSpec): Dashboard {
  const panels: (Panel | RowPanel)[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: GRID_WIDTH, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.w ?? 12;
      const h = p.h ?? (p.kind === 'stat' || p.kind === 'gauge' ? 4 : 8);
      if (x + w > GRID_WIDTH) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panel(p, id++, { h, w, x, y }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [TAG, ...spec.tags],
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    links: [
      {
        title: 'VPP dashboards',
        type: 'dashboards',
        tags: [TAG],
        asDropdown: true,
        icon: 'external link',
        includeVars: true,
        keepTime: true,
        tooltip: '',
        url: '',
        targetBlank: false,
      },
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: { list: [DATASOURCE_VARIABLE, INSTANCE_VARIABLE, ...(spec.variables ?? []).map(queryVariable)] },
    panels,
  };
}
