import { useState } from 'preact/hooks';
import { api } from './api';

export interface ExplainRequest { from: string; to: string; protocol: string; port?: string }

/** `policy explain` for a flow (filled in from the flow table or by hand) and `policy preview` of a pasted manifest. */
export function PolicyView(props: { request: ExplainRequest | undefined; result: string | undefined; error: string | undefined; onExplain(r: ExplainRequest): void }) {
  const r = props.request ?? { from: '', to: '', protocol: 'TCP', port: '80' };
  const [form, setForm] = useState<ExplainRequest>(r);
  const [manifest, setManifest] = useState('');
  const [port, setPort] = useState('80');
  const [staged, setStaged] = useState(true);
  const [preview, setPreview] = useState<string | undefined>();
  const cur = props.request && props.request !== r ? props.request : form;
  const field = (k: keyof ExplainRequest) => (e: Event) => setForm({ ...cur, [k]: (e.currentTarget as HTMLInputElement).value });
  const runPreview = async () => {
    try {
      const p = await api.preview(manifest, { port, protocol: 'TCP', staged });
      setPreview(p.changes.length === 0 ? 'No reachability change.' : p.changes.map((c) => `${c.from} → ${c.to}: ${c.before ? 'allowed' : 'denied'} → ${c.after ? 'allowed' : 'denied'}`).join('\n'));
    } catch (err) {
      setPreview(`Error: ${(err as Error).message}`);
    }
  };
  return (
    <div class="policy-view">
      <section>
        <h2>Explain a flow</h2>
        <form onSubmit={(e) => { e.preventDefault(); props.onExplain(cur); }}>
          <label>From <input id="explain-from" value={cur.from} onInput={field('from')} /></label>
          <label>To <input id="explain-to" value={cur.to} onInput={field('to')} /></label>
          <label>Protocol <input id="explain-protocol" size={6} value={cur.protocol} onInput={field('protocol')} /></label>
          <label>Port <input id="explain-port" size={6} value={cur.port ?? ''} onInput={field('port')} /></label>
          <button type="submit" id="explain-run">Explain</button>
        </form>
        {props.error ? <pre id="explain-error" class="error">{props.error}</pre> : null}
        {props.result ? <pre id="explain-result">{props.result}</pre> : null}
      </section>
      <section>
        <h2>Preview a manifest</h2>
        <textarea id="preview-manifest" rows={12} cols={80} placeholder="paste policy YAML (e.g. from brindle policy suggest)" value={manifest} onInput={(e) => setManifest((e.currentTarget as HTMLTextAreaElement).value)} />
        <div>
          <label>Port <input id="preview-port" size={6} value={port} onInput={(e) => setPort((e.currentTarget as HTMLInputElement).value)} /></label>
          <label><input type="checkbox" id="preview-staged" checked={staged} onChange={(e) => setStaged((e.currentTarget as HTMLInputElement).checked)} /> staged policies as enforced</label>
          <button type="button" id="preview-run" onClick={() => void runPreview()}>Preview</button>
        </div>
        {preview ? <pre id="preview-result">{preview}</pre> : null}
      </section>
    </div>
  );
}
