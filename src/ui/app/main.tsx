import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, peerRef, type Flow, type FlowQuery, type GraphEdge, type GraphNode } from './api';
import { FlowTable } from './flow-table';
import { GraphView } from './graph-view';
import { PolicyView, type ExplainRequest } from './policy-view';

type Tab = 'graph' | 'flows' | 'policy' | 'status';
type Status = Awaited<ReturnType<typeof api.status>>;

/** The Brindle console: live graph, flow table, policy explain/preview, node status. Polls every 2 s. */
function App() {
  const [tab, setTab] = useState<Tab>('graph');
  const [query, setQuery] = useState<FlowQuery>({});
  const [flows, setFlows] = useState<Flow[]>([]);
  const [graph, setGraph] = useState<{ nodes: GraphNode[]; edges: GraphEdge[] }>({ nodes: [], edges: [] });
  const [status, setStatus] = useState<Status | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [explainReq, setExplainReq] = useState<ExplainRequest | undefined>();
  const [explainText, setExplainText] = useState<string | undefined>();
  const [explainErr, setExplainErr] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const [f, g, s] = await Promise.all([api.flows(query), api.graph(query), api.status()]);
        if (!live) return;
        setFlows([...f.flows].reverse());
        setGraph(g);
        setStatus(s);
        setError(undefined);
      } catch (err) {
        if (live) setError((err as Error).message);
      }
    };
    void load();
    const t = setInterval(() => void load(), 2_000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [JSON.stringify(query)]);

  const explain = async (r: ExplainRequest) => {
    setExplainReq(r);
    setTab('policy');
    try {
      const x = await api.explain(r);
      setExplainText(x.text);
      setExplainErr(undefined);
    } catch (err) {
      setExplainText(undefined);
      setExplainErr((err as Error).message);
    }
  };
  const explainFlow = (f: Flow) => void explain({ from: peerRef(f.src), to: peerRef(f.dst), protocol: f.protocol, ...(f.dstPort !== undefined ? { port: String(f.dstPort) } : {}) });

  return (
    <div>
      <header>
        <h1>Brindle</h1>
        <nav>
          {(['graph', 'flows', 'policy', 'status'] as Tab[]).map((t) => (
            <button type="button" id={`tab-${t}`} class={tab === t ? 'active' : ''} onClick={() => setTab(t)} key={t}>{t[0]!.toUpperCase() + t.slice(1)}</button>
          ))}
        </nav>
        {error ? <span class="error" id="load-error">{error}</span> : null}
      </header>
      <main>
        {tab === 'graph' ? <GraphView nodes={graph.nodes} edges={graph.edges} /> : null}
        {tab === 'flows' ? <FlowTable flows={flows} query={query} onQuery={setQuery} onExplain={explainFlow} /> : null}
        {tab === 'policy' ? <PolicyView request={explainReq} result={explainText} error={explainErr} onExplain={(r) => void explain(r)} /> : null}
        {tab === 'status' ? (
          <div id="status">
            <p>{status ? `${status.flowRecords} flow records stored` : 'loading…'}</p>
            <table>
              <thead><tr><th>Node</th><th>BGP address</th><th>AS</th><th>VXLAN tunnel</th><th>Agent</th></tr></thead>
              <tbody>
                {(status?.nodes ?? []).map((n) => (
                  <tr key={n.name} data-node={n.name}><td>{n.name}</td><td>{n.ipv4Address ?? ''}</td><td>{n.asNumber ?? '(cluster default)'}</td><td>{n.tunnel ?? ''}</td><td><pre>{n.agent ? JSON.stringify(n.agent, null, 1) : 'no status socket'}</pre></td></tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
