import type { Flow, FlowQuery } from './api';
import { peerText, policyText } from './api';

/** The filter bar and the flow table; each row can be explained. */
export function FlowTable(props: { flows: Flow[]; query: FlowQuery; onQuery(q: FlowQuery): void; onExplain(f: Flow): void }) {
  const q = props.query;
  const set = (k: keyof FlowQuery) => (e: Event) => props.onQuery({ ...q, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>Verdict <select id="filter-verdict" value={q.verdict ?? ''} onChange={set('verdict')}><option value="">any</option><option value="allowed">allowed</option><option value="denied">denied</option></select></label>
        <label>From <input id="filter-from" placeholder="ns/name, IP or selector" value={q.from ?? ''} onChange={set('from')} /></label>
        <label>To <input id="filter-to" placeholder="ns/name, IP or selector" value={q.to ?? ''} onChange={set('to')} /></label>
        <label>Policy <input id="filter-policy" placeholder="name or ns/name" value={q.policy ?? ''} onChange={set('policy')} /></label>
        <label>Since <input id="filter-since" placeholder="5m, 1h" value={q.since ?? ''} onChange={set('since')} /></label>
      </form>
      <table id="flows">
        <thead><tr><th>End</th><th>Node</th><th>Source</th><th>Destination</th><th>Protocol</th><th>Verdict</th><th>Decided by</th><th>Staged</th><th>Packets</th><th>Bytes</th><th></th></tr></thead>
        <tbody>
          {props.flows.map((f) => (
            <tr key={f.id} data-flow-id={f.id} class={f.verdict}>
              <td>{f.end.slice(11, 23)}</td>
              <td>{f.node}</td>
              <td class="src">{peerText(f.src)}{f.srcPort !== undefined ? `:${f.srcPort}` : ''}</td>
              <td class="dst">{peerText(f.dst)}</td>
              <td>{f.protocol}{f.dstPort !== undefined ? `/${f.dstPort}` : ''}</td>
              <td class="verdict">{f.verdict}</td>
              <td class="policy">{policyText(f)}</td>
              <td>{(f.staged ?? []).map((s) => `${s.name}: ${s.action}`).join(', ')}</td>
              <td>{f.packets}</td>
              <td>{f.bytes}</td>
              <td><button type="button" class="explain" onClick={() => props.onExplain(f)}>Explain</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.flows.length === 0 ? <p class="empty">No flows match.</p> : null}
    </div>
  );
}
