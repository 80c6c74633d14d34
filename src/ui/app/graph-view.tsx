import type { GraphEdge, GraphNode } from './api';

/**
 * Namespaces as columns of their workloads, everything outside the cluster in a last column;
 * edges coloured by verdict (green allowed, red denied, orange both) and as wide as their volume.
 */
export function GraphView(props: { nodes: GraphNode[]; edges: GraphEdge[] }) {
  const columns = new Map<string, GraphNode[]>();
  for (const n of props.nodes) {
    if (n.kind === 'namespace') continue;
    const col = n.kind === 'workload' ? n.namespace ?? 'default' : '(outside)';
    columns.set(col, [...(columns.get(col) ?? []), n]);
  }
  const names = [...columns.keys()].sort((a, b) => (a === '(outside)' ? 1 : b === '(outside)' ? -1 : a < b ? -1 : 1));
  const pos = new Map<string, { x: number; y: number }>();
  const colW = 240;
  const rowH = 64;
  names.forEach((c, i) => columns.get(c)!.forEach((n, j) => pos.set(n.id, { x: 120 + i * colW, y: 80 + j * rowH })));
  const height = 100 + Math.max(1, ...[...columns.values()].map((c) => c.length)) * rowH;
  const width = Math.max(480, 40 + names.length * colW);
  return (
    <svg id="graph" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="workload graph">
      {names.map((c, i) => (
        <g class="namespace" data-namespace={c} key={c}>
          <rect x={20 + i * colW} y={20} width={colW - 40} height={height - 40} rx={10} />
          <text x={120 + i * colW} y={44} text-anchor="middle">{c}</text>
        </g>
      ))}
      {props.edges.map((e) => {
        const a = pos.get(e.from);
        const b = pos.get(e.to);
        if (!a || !b) return null;
        const verdict = e.allowed.flows > 0 && e.denied.flows > 0 ? 'mixed' : e.denied.flows > 0 ? 'denied' : 'allowed';
        const bytes = e.allowed.bytes + e.denied.bytes;
        const w = 1.5 + Math.log10(bytes + 1);
        const mx = (a.x + b.x) / 2;
        const my = (a.y + b.y) / 2 - (a.x === b.x ? 0 : 30) - (a.y === b.y && a.x === b.x ? 0 : 0);
        const d = a.x === b.x ? `M ${a.x} ${a.y} C ${a.x + 70} ${a.y}, ${b.x + 70} ${b.y}, ${b.x} ${b.y}` : `M ${a.x} ${a.y} Q ${mx} ${my} ${b.x} ${b.y}`;
        return (
          <path key={`${e.from}>${e.to}`} class={`edge ${verdict}`} data-edge={`${e.from}>${e.to}`} data-verdict={verdict} d={d} stroke-width={w} fill="none">
            <title>{`${e.from} → ${e.to}: ${e.allowed.flows} allowed, ${e.denied.flows} denied, ${bytes} bytes`}</title>
          </path>
        );
      })}
      {[...pos.entries()].map(([id, p]) => {
        const n = props.nodes.find((x) => x.id === id)!;
        return (
          <g class={`node ${n.kind}`} data-node-id={id} key={id}>
            <circle cx={p.x} cy={p.y} r={14} />
            <text x={p.x} y={p.y + 30} text-anchor="middle">{n.label}</text>
          </g>
        );
      })}
    </svg>
  );
}
