/**
 * The metric families that come from VPP's binary API instead of its stats segment:
 *
 *   vpp_version_info{version,build_date} 1     show_version, asked on every (re)connect
 *   vpp_interface_admin_up{interface,sw_if_index}  0/1
 *   vpp_interface_link_up{interface,sw_if_index}   0/1
 *
 * The interface states are the link-event engine's (src/events/link-events.ts): it reads every
 * interface back after each VPP event and after each reconnect, so its state is VPP's. While the
 * API connection is down the series are left out rather than shown stale (VppDown covers that
 * time), and they come back with the first state read after the reconnect.
 *
 * Written as text after the stats families, not as prom-client objects: at 100k interfaces,
 * 200k labelled prom-client series would cost more than the whole stats scrape. The text is
 * cached and rebuilt only when the state or the version changes, which is rare (link changes).
 */
import { escapeLabelValue } from './names.js';
import type { GaugeFamily } from './otlp-encoder.js';

/** The link state as the event engine keeps it (LinkEvents has it). */
export interface InterfaceStateSource {
  readonly state: ReadonlyMap<number, { readonly name: string; readonly adminUp: boolean; readonly linkUp: boolean }>;
  /** Moves whenever `state` changes. */
  readonly stateVersion: number;
}

/** The part of the binary API client this needs (VppClient has it). */
export interface VersionSource {
  readonly connected: boolean;
  showVersion(): Promise<{ version: string; build_date: string }>;
  on(event: 'connected' | 'disconnected', listener: () => void): unknown;
  off(event: 'connected' | 'disconnected', listener: () => void): unknown;
}

export interface VppVersion {
  readonly version: string;
  readonly buildDate: string;
}

export const API_FAMILIES = [
  { name: 'vpp_version_info', type: 'gauge', labels: ['version', 'build_date'], help: "VPP's version and build date as show_version reports them; the value is 1." },
  {
    name: 'vpp_interface_admin_up',
    type: 'gauge',
    labels: ['interface', 'sw_if_index'],
    help: 'Whether the interface is administratively up (1) or down (0), from the binary API.',
  },
  {
    name: 'vpp_interface_link_up',
    type: 'gauge',
    labels: ['interface', 'sw_if_index'],
    help: 'Whether the interface has link (1) or not (0), from the binary API.',
  },
] as const;

const header = (i: number): string => `# HELP ${API_FAMILIES[i].name} ${API_FAMILIES[i].help}\n# TYPE ${API_FAMILIES[i].name} gauge\n`;

export class ApiFamilies {
  private version: VppVersion | undefined;
  private interfaces: InterfaceStateSource | undefined;
  private apiConnected: () => boolean = () => false;
  private cached = '';
  /** What `cached` was built from. */
  private cachedKey = '';
  private gauges: readonly GaugeFamily[] = [];
  private gaugesKey = '';
  private detach: (() => void) | undefined;

  /** Follows the client: asks show_version on every connect, forgets it on disconnect. */
  attachVpp(vpp: VersionSource, onError: (e: unknown) => void = () => undefined): void {
    this.detach?.();
    let asked = 0;
    const ask = (): void => {
      const mine = ++asked;
      vpp.showVersion().then(
        (r) => {
          // A reply for an older connection must not overwrite a newer one's.
          if (mine === asked && vpp.connected) this.version = { version: r.version, buildDate: r.build_date };
        },
        (e: unknown) => {
          if (mine === asked) onError(e);
        },
      );
    };
    const gone = (): void => {
      asked++;
      this.version = undefined;
    };
    vpp.on('connected', ask);
    vpp.on('disconnected', gone);
    this.apiConnected = () => vpp.connected;
    this.detach = () => {
      vpp.off('connected', ask);
      vpp.off('disconnected', gone);
      this.apiConnected = () => false;
      this.version = undefined;
    };
    if (vpp.connected) ask();
  }

  attachInterfaces(source: InterfaceStateSource | undefined): void {
    this.interfaces = source;
  }

  close(): void {
    this.detach?.();
    this.detach = undefined;
    this.interfaces = undefined;
  }

  private current(): { key: string; v: VppVersion | undefined; ifs: InterfaceStateSource | undefined } {
    const up = this.apiConnected();
    const ifs = up ? this.interfaces : undefined;
    const v = up ? this.version : undefined;
    return { key: `${v ? `${v.version}\0${v.buildDate}` : ''}/${ifs ? ifs.stateVersion : -1}`, v, ifs };
  }

  /** The same families as values, for OTLP (cached like the text). */
  gaugeFamilies(): readonly GaugeFamily[] {
    const { key, v, ifs } = this.current();
    if (key === this.gaugesKey) return this.gauges;
    const out: GaugeFamily[] = [];
    if (v) out.push({ name: API_FAMILIES[0].name, description: API_FAMILIES[0].help, points: [{ attributes: [['version', v.version], ['build_date', v.buildDate]], value: 1 }] });
    if (ifs && ifs.state.size > 0) {
      const sorted = [...ifs.state].sort((a, b) => a[0] - b[0]);
      const attrs = sorted.map(([sw, st]) => [['interface', st.name], ['sw_if_index', String(sw)]] as const);
      out.push({ name: API_FAMILIES[1].name, description: API_FAMILIES[1].help, points: sorted.map(([, st], i) => ({ attributes: attrs[i], value: st.adminUp ? 1 : 0 })) });
      out.push({ name: API_FAMILIES[2].name, description: API_FAMILIES[2].help, points: sorted.map(([, st], i) => ({ attributes: attrs[i], value: st.linkUp ? 1 : 0 })) });
    }
    this.gauges = out;
    this.gaugesKey = key;
    return out;
  }

  /** The families as exposition text (identical in Prometheus text and OpenMetrics for gauges). */
  render(): string {
    const { key, v, ifs } = this.current();
    if (key === this.cachedKey) return this.cached;
    let out = '';
    if (v) out += `${header(0)}vpp_version_info{version="${escapeLabelValue(v.version)}",build_date="${escapeLabelValue(v.buildDate)}"} 1\n`;
    if (ifs && ifs.state.size > 0) {
      const sorted = [...ifs.state].sort((a, b) => a[0] - b[0]);
      const labels = sorted.map(([sw, s]) => `{interface="${escapeLabelValue(s.name)}",sw_if_index="${sw}"} `);
      const admin: string[] = [header(1)];
      const link: string[] = [header(2)];
      for (let i = 0; i < sorted.length; i++) {
        const s = sorted[i][1];
        admin.push(`vpp_interface_admin_up${labels[i]}${s.adminUp ? 1 : 0}\n`);
        link.push(`vpp_interface_link_up${labels[i]}${s.linkUp ? 1 : 0}\n`);
      }
      out += admin.join('') + link.join('');
    }
    this.cached = out;
    this.cachedKey = key;
    return out;
  }
}
