/**
 * One-to-one assignment maximising total score (the Hungarian method, in the O(n²m) potentials form of
 * Jonker–Volgenant / Kuhn–Munkres) for a rectangular score matrix with rows ≤ columns. Used to match
 * ground-truth features to latents by cosine.
 */

/**
 * Returns, for each row, the column assigned to it (every row gets a distinct column). `score` is
 * [rows, cols] row-major with rows ≤ cols; the sum of assigned scores is maximal.
 */
export function hungarianMax(score: Float32Array | Float64Array, rows: number, cols: number): Int32Array {
  if (rows > cols) throw new RangeError(`hungarianMax needs rows ≤ cols, got ${rows} × ${cols}`);
  const INF = Number.POSITIVE_INFINITY;
  // potentials u (rows, 1-based), v (cols, 1-based); p[j] = row matched to column j; way[j] = previous column
  const u = new Float64Array(rows + 1), v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1), way = new Int32Array(cols + 1);
  const minv = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = INF, j1 = 0;
      const base = (i0 - 1) * cols;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = -score[base + j - 1] - u[i0] - v[j];
        if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
        if (minv[j] < delta) { delta = minv[j]; j1 = j; }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) { u[p[j]] += delta; v[j] -= delta; } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const assign = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (p[j] !== 0) assign[p[j] - 1] = j - 1;
  return assign;
}
