/**
 * Label index benchmark: 100,000 endpoints with realistic label sets (app, tier, env, namespace,
 * version, feature flags, plus labels inherited from a namespace profile) and 10,000 selectors of
 * mixed shapes. Measures building from scratch, one endpoint label change, one selector add and one
 * profile change, against a naive matcher that evaluates every selector (or every endpoint) on
 * each change, measured side by side in the same run.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseSelector, type Selector } from '../src/selector/index.js';
import { LabelIndex, type LabelIndexCallbacks } from '../src/selector/label-index.js';
import { inheritLabels } from '../src/selector/label-inheritance.js';
import { percentiles, type BenchRow } from './table.js';

const ENDPOINTS = 100_000;
const SELECTORS = 10_000;
const NAMESPACES = 200;
const NS = 'projectcalico.org/namespace';

/** Deterministic PRNG (mulberry32) so every run measures the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pickOf = <T>(r: Rand, xs: readonly T[]) => xs[int(r, xs.length)]!;
const TIERS = ['frontend', 'backend', 'db', 'cache'];
const ENVS = ['prod', 'staging', 'dev'];

function endpointLabels(r: Rand): { labels: Record<string, string>; parent: string } {
  const ns = int(r, NAMESPACES);
  const labels: Record<string, string> = {
    app: `app-${int(r, 2000)}`,
    tier: pickOf(r, TIERS),
    env: pickOf(r, ENVS),
    [NS]: `ns-${ns}`,
    version: `v${1 + int(r, 5)}`,
  };
  const features = int(r, 6); // 5–10 labels in all
  for (let i = 0; i < features; i++) labels[`feature-${int(r, 1000)}`] = 'true';
  return { labels, parent: `kns.ns-${ns}` };
}

function profileLabels(ns: number, generation: number): Record<string, string> {
  return { 'pcns.team': `team-${(ns + generation) % 50}`, 'pcns.tier': generation % 2 ? 'gold' : 'silver' };
}

function selectorText(r: Rand): string {
  const x = r();
  const app = () => `app-${int(r, 2000)}`;
  const ns = () => `ns-${int(r, NAMESPACES)}`;
  if (x < 0.28) return `app == "${app()}"`;
  if (x < 0.43) return `app in {"${app()}", "${app()}", "${app()}"}`;
  if (x < 0.53) return `has(feature-${int(r, 1000)})`;
  if (x < 0.68) return `${NS} == "${ns()}" && app != "${app()}"`;
  if (x < 0.81) return `tier == "${pickOf(r, TIERS)}" && env == "${pickOf(r, ENVS)}" && version == "v${1 + int(r, 5)}" && ${NS} == "${ns()}"`;
  if (x < 0.89) return `app == "${app()}" || app == "${app()}"`;
  if (x < 0.94) return `(${NS} == "${ns()}" && tier == "db") || (${NS} == "${ns()}" && has(feature-${int(r, 1000)}))`;
  if (x < 0.99) return `pcns.team == "team-${int(r, 50)}" && tier == "${pickOf(r, TIERS)}" && env != "dev"`;
  return `!has(app) && tier != "${pickOf(r, TIERS)}"`; // no usable restriction: evaluated on every update
}

class Counter implements LabelIndexCallbacks {
  events = 0;
  onMatchStarted(): void {
    this.events++;
  }
  onMatchStopped(): void {
    this.events++;
  }
}

/** The baseline: evaluates every selector on an endpoint change, every endpoint on a selector add. */
class NaiveMatcher {
  readonly selectors = new Map<string, Selector>();
  readonly labels = new Map<string, ReadonlyMap<string, string>>();
  readonly matches = new Map<string, Set<string>>();
  constructor(private readonly cb: LabelIndexCallbacks) {}

  updateSelector(id: string, sel: Selector): void {
    this.selectors.set(id, sel);
    for (const [itemId, labels] of this.labels) this.set(id, itemId, sel.evaluate(labels));
  }
  updateItem(id: string, labels: ReadonlyMap<string, string>): void {
    this.labels.set(id, labels);
    for (const [selId, sel] of this.selectors) this.set(selId, id, sel.evaluate(labels));
  }
  private set(selId: string, itemId: string, match: boolean): void {
    let items = this.matches.get(selId);
    if (!items) this.matches.set(selId, (items = new Set()));
    if (match === items.has(itemId)) return;
    if (match) {
      items.add(itemId);
      this.cb.onMatchStarted(selId, itemId);
    } else {
      items.delete(itemId);
      this.cb.onMatchStopped(selId, itemId);
    }
  }
}

/** Wall-clock and process CPU time of one call (CPU time leaves out time spent descheduled). */
interface Took {
  wall: number;
  cpu: number;
}
function measure(fn: () => void): Took {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** Median/p99 rows for one operation, wall and CPU, and the speed-up over the naive baseline. */
function report(row: Row, name: string, samples: Took[], naive: Took[], note: string, naiveNote: string): void {
  const w = percentiles(samples.map((t) => t.wall));
  const c = percentiles(samples.map((t) => t.cpu));
  const nw = percentiles(naive.map((t) => t.wall));
  const nc = percentiles(naive.map((t) => t.cpu));
  row(`${name} median`, w.median, 'ms', note);
  row(`${name} p99`, w.p99, 'ms', 'wall clock, includes time descheduled on a loaded machine');
  row(`${name} CPU median`, c.median, 'ms', 'process CPU time of the call');
  row(`${name} CPU p99`, c.p99, 'ms');
  row(`naive ${name} median`, nw.median, 'ms', `${naiveNote}; CPU median ${nc.median.toFixed(2)} ms`);
  row(`${name} speed-up vs naive`, nc.median / c.median, '×', `CPU median vs CPU median (wall: ${(nw.median / w.median).toFixed(0)}×)`);
}

type Row = (metric: string, value: number, unit: string, note?: string) => void;

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row: Row = (metric, value, unit, note) => rows.push({ bench: 'selector-index', metric, value, unit, note });
  const r = rng(42);
  row('machine load average (1 min)', loadavg()[0]!, '', `${cpus().length} CPUs; wall-clock figures suffer when this exceeds the CPU count`);

  const endpoints = Array.from({ length: ENDPOINTS }, () => endpointLabels(r));
  const selectors = Array.from({ length: SELECTORS }, () => parseSelector(selectorText(r)));
  const profiles = new Map(Array.from({ length: NAMESPACES }, (_, ns) => [`kns.ns-${ns}`, new Map(Object.entries(profileLabels(ns, 0)))]));

  // --- Build from scratch: profiles, selectors, then endpoints.
  const counter = new Counter();
  const index = new LabelIndex(counter);
  const build = measure(() => {
    for (const [id, labels] of profiles) index.updateParent(id, labels);
    selectors.forEach((s, i) => index.updateSelector(`sel-${i}`, s));
    endpoints.forEach((e, i) => index.updateItem(`ep-${i}`, e.labels, [e.parent]));
  });
  const buildMatches = counter.events;

  // --- Naive build, measured on a slice of the selectors and scaled (cost is selectors × endpoints).
  const naiveCounter = new Counter();
  const naive = new NaiveMatcher(naiveCounter);
  const effective = endpoints.map((e) => inheritLabels(new Map(Object.entries(e.labels)), [profiles.get(e.parent)]));
  effective.forEach((l, i) => naive.labels.set(`ep-${i}`, l));
  const NAIVE_SLICE = 100;
  const scale = SELECTORS / NAIVE_SLICE;
  const naiveSlice = measure(() => selectors.slice(0, NAIVE_SLICE).forEach((s, i) => naive.updateSelector(`sel-${i}`, s)));
  for (let i = NAIVE_SLICE; i < SELECTORS; i++) naive.selectors.set(`sel-${i}`, selectors[i]!); // state only, for the per-change baselines

  row('build from scratch', build.wall, 'ms', `${ENDPOINTS} endpoints, ${SELECTORS} selectors, ${NAMESPACES} profiles; ${buildMatches} matches; CPU ${build.cpu.toFixed(0)} ms`);
  row('naive build (scaled)', naiveSlice.wall * scale, 'ms', `measured ${naiveSlice.wall.toFixed(0)} ms (CPU ${naiveSlice.cpu.toFixed(0)} ms) for ${NAIVE_SLICE} selectors × ${ENDPOINTS} endpoints, ×${scale}`);
  row('build speed-up vs naive', (naiveSlice.cpu * scale) / build.cpu, '×', `CPU vs scaled CPU (wall: ${((naiveSlice.wall * scale) / build.wall).toFixed(0)}×)`);

  // --- One endpoint label change: a single label (app or version) changed, or every label replaced.
  const naiveUpd: Took[] = [];
  const nr = rng(3);
  for (let k = 0; k < 100; k++) {
    const i = int(nr, ENDPOINTS);
    const e = endpointLabels(nr);
    const labels = inheritLabels(new Map(Object.entries(e.labels)), [profiles.get(endpoints[i]!.parent)]);
    naiveUpd.push(measure(() => naive.updateItem(`ep-${i}`, labels)));
  }
  const current = endpoints.map((e) => ({ ...e.labels }));
  for (const mode of ['one label', 'all labels'] as const) {
    const upd = rng(mode === 'one label' ? 7 : 8);
    const samples: Took[] = [];
    const events: number[] = [];
    for (let k = 0; k < 3000; k++) {
      const i = int(upd, ENDPOINTS);
      let labels: Record<string, string>;
      if (mode === 'one label') {
        labels = { ...current[i]! };
        if (upd() < 0.5) labels['app'] = `app-${int(upd, 2000)}`;
        else labels['version'] = `v${1 + int(upd, 5)}`;
      } else {
        labels = endpointLabels(upd).labels;
        labels[NS] = endpoints[i]!.labels[NS]!; // stays in its namespace (and profile)
      }
      current[i] = labels;
      const before = counter.events;
      samples.push(measure(() => index.updateItem(`ep-${i}`, labels, [endpoints[i]!.parent])));
      events.push(counter.events - before);
    }
    const ev = percentiles(events);
    report(row, `endpoint update (${mode})`, samples, naiveUpd,
      `3000 changes; match events per change median ${ev.median}, p99 ${ev.p99}`,
      `evaluates all ${SELECTORS} selectors; 100 samples`);
  }

  // --- One selector add (then removed again, untimed).
  const add = rng(99);
  const addSamples: Took[] = [];
  const addEvents: number[] = [];
  for (let k = 0; k < 1000; k++) {
    const s = parseSelector(selectorText(add));
    const before = counter.events;
    addSamples.push(measure(() => index.updateSelector('bench-new', s)));
    addEvents.push(counter.events - before);
    index.deleteSelector('bench-new');
  }
  const naiveAdd: Took[] = [];
  for (let k = 0; k < 20; k++) {
    const s = parseSelector(selectorText(add));
    naiveAdd.push(measure(() => naive.updateSelector('bench-new', s)));
  }
  const ae = percentiles(addEvents);
  report(row, 'selector add', addSamples, naiveAdd,
    `1000 random selectors; match events per add median ${ae.median}, p99 ${ae.p99}; the 1% with no usable restriction scan every endpoint`,
    `evaluates all ${ENDPOINTS} endpoints; 20 samples`);

  // --- One namespace profile change (inherited labels of ~500 endpoints).
  const prof: Took[] = [];
  const profEvents: number[] = [];
  for (let k = 0; k < 100; k++) {
    const ns = k % NAMESPACES;
    const before = counter.events;
    prof.push(measure(() => index.updateParent(`kns.ns-${ns}`, profileLabels(ns, k + 1))));
    profEvents.push(counter.events - before);
  }
  const p = percentiles(prof.map((t) => t.wall));
  const pc = percentiles(prof.map((t) => t.cpu));
  row('profile labels change median', p.median, 'ms', `~${Math.round(ENDPOINTS / NAMESPACES)} endpoints inherit from it; match events median ${percentiles(profEvents).median}; CPU median ${pc.median.toFixed(2)} ms`);
  row('profile labels change p99', p.p99, 'ms', `CPU p99 ${pc.p99.toFixed(2)} ms`);
  return rows;
}
