import { renderMatrix, type ReachabilityMatrix } from '../../calc/matrix.js';

/** Widest table (characters) printed with a label over every column; wider ones number their columns. */
export const MATRIX_MAX_WIDTH = 120;

/**
 * `policy matrix` as text. Rows carry the short labels (`ns/workload`, see EndpointNames). When a
 * column per label fits in MATRIX_MAX_WIDTH characters, columns are labelled like the rows (the
 * Kubernetes netpol truth-table layout); otherwise rows are numbered and columns carry the numbers,
 * so 25+ endpoints stay readable. `wide` always labels columns with the full endpoint names.
 */
export function renderMatrixText(m: ReachabilityMatrix, shortLabels: string[], opts: { wide?: boolean } = {}): { text: string; numbered: boolean } {
  if (opts.wide) return { text: renderMatrix(m), numbered: false };
  const labelled = renderMatrix({ ...m, endpoints: shortLabels });
  if (Math.max(0, ...labelled.split('\n').map((l) => l.length)) <= MATRIX_MAX_WIDTH) return { text: labelled, numbered: false };
  const n = shortLabels.length;
  const iw = String(n).length;
  const w = Math.max(...shortLabels.map((l) => l.length));
  const lines = [`${''.padEnd(iw + 1 + w)} ${shortLabels.map((_, j) => String(j + 1).padStart(iw)).join(' ')}`];
  shortLabels.forEach((label, i) => {
    lines.push(`${String(i + 1).padStart(iw)} ${label.padEnd(w)} ${m.allowed[i]!.map((a) => (a ? '.' : 'X').padStart(iw)).join(' ')}`);
  });
  return { text: lines.join('\n') + '\n', numbered: true };
}
