/**
 * Exact nonnegative lasso codes a* = argmin_{a≥0} ½‖t − D̂ᵀa‖² + λ_e Σa per row (docs/theory.md §B5), with
 * t = x − b. A working-set method: each row is solved on its working set (warm-started at the given codes,
 * usually the encoder's ã) by nonnegative FISTA, or by coordinate descent on the residual (the default:
 * the same unique optimum, and far cheaper when the encoder's support is large and the exact one small), the support is polished by an exact least-squares refit, then one
 * GEMM pass checks the KKT conditions against every atom and adds the worst violators; repeat until no
 * atom violates ⟨d̂_i, r⟩ ≤ λ_e(1 + tol). The result is exact to tol·λ_e without ever forming an n×m
 * gradient per iteration.
 */
import { THRESHOLDS } from './thresholds';
import { forEachProjectionRow } from './codeResiduals';
import { parallelRows } from './pool';
import { joinRows, sliceRows } from './encoderCodes';
import type { SparseCodes } from './encoderCodes';

export interface ExactCodeOptions {
  tol?: number;
  maxIter?: number;
  maxRounds?: number;
  addPerRound?: number;
  /** Row solver: 'cd' (coordinate descent, default) or 'fista'. Both stop at the same KKT tolerance. */
  method?: 'cd' | 'fista';
}

/** a* as CSR (SparseCodes without n, m) plus the solver's facts. */
export interface ExactCodes {
  rowPtr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
  /** r = t − D̂ᵀa* [n, d]. */
  residual: Float32Array;
  /** Largest KKT violation over all rows and atoms, in units of λ_e. */
  maxViolation: number;
  rounds: number;
  /** Rows still violating KKT by more than tol·λ_e when the round budget ran out. */
  unconvergedRows: number;
}

export interface RowState {
  ws: number[];
  a: Float64Array;
}

type WarmCodes = Pick<SparseCodes, 'rowPtr' | 'idx' | 'val'>;

/**
 * Solves every row. `targets` [n, d] are x − b. `warm` gives initial codes per row as CSR (idx, val);
 * omit it to start from zero. Rows are independent, so they are split across the diagnostics' threads
 * (./pool.ts); a row's a* does not depend on the split.
 */
export function exactCodes(targets: Float32Array, unitAtoms: Float32Array, n: number, m: number, d: number, lambdaE: number, warm?: WarmCodes, o: ExactCodeOptions = {}): ExactCodes {
  const parts = parallelRows(n,
    (lo, hi) => exactCodesRange(targets.subarray(lo * d, hi * d), unitAtoms, hi - lo, m, d, lambdaE, warm && sliceRows(warm, lo, hi), o),
    (lo, hi) => ({ kind: 'exact', constants: { unitAtoms }, args: { targets: targets.slice(lo * d, hi * d), n: hi - lo, m, d, lambdaE, warm: warm && sliceRows(warm, lo, hi, true), options: o } }),
    64).map((p) => p.value as ExactCodes);
  if (parts.length === 1) return parts[0]!;
  const residual = new Float32Array(n * d);
  let row = 0, maxViolation = 0, rounds = 0, unconvergedRows = 0;
  for (const p of parts) {
    residual.set(p.residual, row * d);
    maxViolation = Math.max(maxViolation, p.maxViolation); rounds = Math.max(rounds, p.rounds); unconvergedRows += p.unconvergedRows;
    row += p.rowPtr.length - 1;
  }
  return { ...joinRows(parts), residual, maxViolation, rounds, unconvergedRows };
}

/** exactCodes on this thread (also what each pool worker runs on its rows). */
export function exactCodesRange(targets: Float32Array, unitAtoms: Float32Array, n: number, m: number, d: number, lambdaE: number, warm?: WarmCodes, o: ExactCodeOptions = {}): ExactCodes {
  const tol = o.tol ?? THRESHOLDS.solverTol, maxIter = o.maxIter ?? THRESHOLDS.solverMaxIter;
  const maxRounds = o.maxRounds ?? THRESHOLDS.solverMaxRounds, addPerRound = o.addPerRound ?? THRESHOLDS.solverAddPerRound;
  const rows: RowState[] = [];
  for (let r = 0; r < n; r++) {
    const ws: number[] = [], vals: number[] = [];
    if (warm) for (let k = warm.rowPtr[r]; k < warm.rowPtr[r + 1]; k++) if (warm.val[k] > 0) { ws.push(warm.idx[k]); vals.push(warm.val[k]); }
    rows.push({ ws, a: Float64Array.from(vals) });
  }
  const residual = new Float32Array(n * d);
  const computeResidual = (r: number): void => {
    const st = rows[r];
    for (let j = 0; j < d; j++) residual[r * d + j] = targets[r * d + j];
    st.ws.forEach((lat, k) => {
      const v = st.a[k];
      if (v !== 0) for (let j = 0; j < d; j++) residual[r * d + j] -= v * unitAtoms[lat * d + j];
    });
  };
  for (let r = 0; r < n; r++) computeResidual(r);
  let pending: number[] = Array.from({ length: n }, (_, r) => r);
  let unconverged = 0, rounds = 0, maxViolation = 0;
  // each round: one KKT check of the pending rows against all atoms, then re-solve the violators
  const limit = lambdaE * (1 + tol);
  const inWs = new Uint8Array(m);
  for (;; rounds++) {
    // KKT check against every atom for the pending rows; grow their working sets
    const toSolve: number[] = [];
    maxViolation = 0;
    forEachProjectionRow(residual, unitAtoms, pending, m, d, (r, proj, off) => {
      const st = rows[r];
      for (const lat of st.ws) inWs[lat] = 1;
      const viol: [number, number][] = [];
      for (let i = 0; i < m; i++) {
        const p = proj[off + i];
        if (p > limit && !inWs[i]) viol.push([p, i]);
      }
      // also violations inside the working set (a_i = 0 with p > λ, or a_i > 0 with p ≠ λ)
      let inner = 0;
      st.ws.forEach((lat, k) => {
        const p = proj[off + lat];
        inner = Math.max(inner, st.a[k] > 0 ? Math.abs(p - lambdaE) : p - lambdaE);
      });
      for (const lat of st.ws) inWs[lat] = 0;
      const worst = Math.max(inner, viol.reduce((acc, v) => Math.max(acc, v[0] - lambdaE), 0)) / lambdaE;
      maxViolation = Math.max(maxViolation, worst);
      if (viol.length || inner > tol * lambdaE) {
        viol.sort((x, y) => y[0] - x[0]);
        for (const [, i] of viol.slice(0, addPerRound)) { st.ws.push(i); }
        const grown = new Float64Array(st.ws.length);
        grown.set(st.a);
        st.a = grown;
        toSolve.push(r);
      }
    });
    if (toSolve.length === 0) break;
    if (rounds >= maxRounds) { unconverged = toSolve.length; break; }
    for (const r of toSolve) {
      (o.method === 'fista' ? solveRow : solveRowCd)(rows[r], targets, r, unitAtoms, d, lambdaE, tol, maxIter);
      // drop atoms that left the support so that the working set stays small
      const st = rows[r];
      const keep = st.ws.map((_, k) => k).filter((k) => st.a[k] > 0);
      st.ws = keep.map((k) => st.ws[k]);
      st.a = Float64Array.from(keep.map((k) => st.a[k]));
      computeResidual(r);
    }
    pending = toSolve;
  }
  let nnz = 0;
  for (const st of rows) nnz += st.ws.length;
  const rowPtr = new Int32Array(n + 1), idx = new Int32Array(nnz), val = new Float32Array(nnz);
  let k = 0;
  rows.forEach((st, r) => {
    rowPtr[r] = k;
    const order = st.ws.map((_, t) => t).sort((x, y) => st.ws[x] - st.ws[y]);
    for (const t of order) { idx[k] = st.ws[t]; val[k] = st.a[t]; k++; }
  });
  rowPtr[n] = k;
  for (let r = 0; r < n; r++) computeResidual(r);
  return { rowPtr, idx, val, residual, maxViolation, rounds, unconvergedRows: unconverged };
}

/**
 * Coordinate descent on one row's working set, keeping the residual r = t − Σ a_p d̂_p current (each
 * coordinate visit costs 2d, independent of the working-set size), cycling over the nonzero coordinates
 * between full sweeps (the glmnet strategy), then the exact refit on the support.
 */
export function solveRowCd(st: RowState, targets: Float32Array, r: number, atoms: Float32Array, d: number, lambda: number, tol: number, maxIter: number): void {
  const s = st.ws.length;
  if (s === 0) return;
  const a = st.a;
  const res = new Float64Array(d);
  for (let j = 0; j < d; j++) res[j] = targets[r * d + j];
  const diag = new Float64Array(s);
  for (let p = 0; p < s; p++) {
    const po = st.ws[p] * d;
    let dd = 0;
    for (let j = 0; j < d; j++) dd += atoms[po + j] * atoms[po + j];
    diag[p] = dd;
    if (a[p] !== 0) for (let j = 0; j < d; j++) res[j] -= a[p] * atoms[po + j];
  }
  /** Updates coordinate p; returns its KKT violation before the update. */
  const visit = (p: number): number => {
    if (!(diag[p] > 0)) { a[p] = 0; return 0; }
    const po = st.ws[p] * d;
    let proj = 0;
    for (let j = 0; j < d; j++) proj += atoms[po + j] * res[j];
    const gp = lambda - proj;
    const viol = a[p] > 0 ? Math.abs(gp) : -gp;
    const next = Math.max(0, a[p] - gp / diag[p]);
    const delta = next - a[p];
    if (delta !== 0) {
      for (let j = 0; j < d; j++) res[j] -= delta * atoms[po + j];
      a[p] = next;
    }
    return viol;
  };
  const goal = tol * lambda;
  for (let sweep = 0; sweep < maxIter; sweep++) {
    let worst = 0;
    for (let p = 0; p < s; p++) worst = Math.max(worst, visit(p));
    if (worst < goal) break;
    for (let inner = 0; inner < maxIter; inner++) {
      let w = 0;
      for (let p = 0; p < s; p++) if (a[p] > 0) w = Math.max(w, visit(p));
      if (w < goal) break;
    }
  }
  const sup: number[] = [];
  for (let p = 0; p < s; p++) if (a[p] > 0) sup.push(p);
  const k = sup.length;
  if (k === 0) return;
  const gs = new Float64Array(k * k), cs = new Float64Array(k), as = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const po = st.ws[sup[i]] * d;
    let cv = 0;
    for (let j = 0; j < d; j++) cv += atoms[po + j] * targets[r * d + j];
    cs[i] = cv; as[i] = a[sup[i]];
    for (let q = 0; q <= i; q++) {
      const qo = st.ws[sup[q]] * d;
      let v = 0;
      for (let j = 0; j < d; j++) v += atoms[po + j] * atoms[qo + j];
      gs[i * k + q] = v; gs[q * k + i] = v;
    }
  }
  polishSupport(as, gs, cs, k, lambda);
  sup.forEach((p, i) => { a[p] = as[i]; });
}

/** FISTA on one row's working set, then an exact refit on the support. */
export function solveRow(st: RowState, targets: Float32Array, r: number, atoms: Float32Array, d: number, lambda: number, tol: number, maxIter: number): void {
  const s = st.ws.length;
  if (s === 0) return;
  const g = new Float64Array(s * s), c = new Float64Array(s);
  for (let p = 0; p < s; p++) {
    const po = st.ws[p] * d;
    let cv = 0;
    for (let j = 0; j < d; j++) cv += atoms[po + j] * targets[r * d + j];
    c[p] = cv;
    for (let q = 0; q <= p; q++) {
      const qo = st.ws[q] * d;
      let v = 0;
      for (let j = 0; j < d; j++) v += atoms[po + j] * atoms[qo + j];
      g[p * s + q] = v; g[q * s + p] = v;
    }
  }
  let lip = largestEigen(g, s) * 1.01 + 1e-12;
  const a = st.a, y = Float64Array.from(a), prev = new Float64Array(s), grad = new Float64Array(s);
  const quad = (v: Float64Array): number => {
    let q = 0;
    for (let p = 0; p < s; p++) { let gv = 0; for (let k = 0; k < s; k++) gv += g[p * s + k] * v[k]; q += v[p] * (0.5 * gv - c[p]); }
    return q;
  };
  let t = 1;
  for (let it = 0; it < maxIter; it++) {
    // gradient of the smooth part ½aᵀGa − cᵀa at y (λ enters through the prox: shift by λ/L)
    for (let p = 0; p < s; p++) {
      let v = -c[p];
      for (let q = 0; q < s; q++) v += g[p * s + q] * y[q];
      grad[p] = v;
    }
    prev.set(a);
    const fy = quad(y);
    // backtracking: the power-iteration estimate of L may undershoot
    for (let bt = 0; bt < 30; bt++) {
      let lin = 0, sq = 0;
      for (let p = 0; p < s; p++) {
        a[p] = Math.max(0, y[p] - (grad[p] + lambda) / lip);
        const dv = a[p] - y[p];
        lin += grad[p] * dv; sq += dv * dv;
      }
      if (quad(a) <= fy + lin + 0.5 * lip * sq + 1e-12 * Math.abs(fy)) break;
      lip *= 2;
    }
    const tn = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    for (let p = 0; p < s; p++) y[p] = a[p] + ((t - 1) / tn) * (a[p] - prev[p]);
    t = tn;
    if (it % 10 === 9 || it === maxIter - 1) {
      if (kktViolation(a, g, c, s, lambda) < tol * lambda) break;
    }
  }
  polishSupport(a, g, c, s, lambda);
}

/** Max KKT violation of a on its working set: |∂| on the support, (−∂)₊ off it, with ∂ = G a − c + λ. */
function kktViolation(a: Float64Array, g: Float64Array, c: Float64Array, s: number, lambda: number): number {
  let worst = 0;
  for (let p = 0; p < s; p++) {
    let v = -c[p] + lambda;
    for (let q = 0; q < s; q++) v += g[p * s + q] * a[q];
    worst = Math.max(worst, a[p] > 0 ? Math.abs(v) : -v);
  }
  return worst;
}

/**
 * On the support S found by FISTA, the KKT equalities are G_S a_S = c_S − λ𝟙: solve them exactly
 * (Cholesky) and keep the result if it stays positive and does not worsen the KKT violation.
 */
function polishSupport(a: Float64Array, g: Float64Array, c: Float64Array, s: number, lambda: number): void {
  const sup: number[] = [];
  for (let p = 0; p < s; p++) if (a[p] > 0) sup.push(p);
  const k = sup.length;
  if (k === 0) return;
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) {
    let v = g[sup[i] * s + sup[j]];
    for (let t = 0; t < j; t++) v -= l[i * k + t] * l[j * k + t];
    if (i === j) { if (v <= 1e-12) return; l[i * k + i] = Math.sqrt(v); } else l[i * k + j] = v / l[j * k + j];
  }
  const z = new Float64Array(k);
  for (let i = 0; i < k; i++) { let v = c[sup[i]] - lambda; for (let t = 0; t < i; t++) v -= l[i * k + t] * z[t]; z[i] = v / l[i * k + i]; }
  for (let i = k - 1; i >= 0; i--) { let v = z[i]; for (let t = i + 1; t < k; t++) v -= l[t * k + i] * z[t]; z[i] = v / l[i * k + i]; }
  if (z.some((v) => !(v > 0))) return;
  const before = kktViolation(a, g, c, s, lambda);
  const trial = Float64Array.from(a);
  sup.forEach((p, i) => { trial[p] = z[i]; });
  if (kktViolation(trial, g, c, s, lambda) <= before) a.set(trial);
}

function largestEigen(g: Float64Array, s: number): number {
  // a start vector with no symmetry (a uniform start can be an eigenvector of the smallest eigenvalue)
  let v = new Float64Array(s);
  for (let p = 0; p < s; p++) v[p] = 1 + 0.37 * Math.sin(1.7 * p + 0.3);
  let lam = 0;
  for (let it = 0; it < 50; it++) {
    const w = new Float64Array(s);
    for (let p = 0; p < s; p++) { let x = 0; for (let q = 0; q < s; q++) x += g[p * s + q] * v[q]; w[p] = x; }
    let nrm = 0;
    for (let p = 0; p < s; p++) nrm += w[p] * w[p];
    nrm = Math.sqrt(nrm);
    if (nrm === 0) return 0;
    const next = nrm;
    for (let p = 0; p < s; p++) w[p] /= nrm;
    v = w;
    if (Math.abs(next - lam) < 1e-9 * next) { lam = next; break; }
    lam = next;
  }
  // Gershgorin as a safety net: the power estimate can undershoot on near-degenerate spectra
  let gersh = 0;
  for (let p = 0; p < s; p++) { let x = 0; for (let q = 0; q < s; q++) x += Math.abs(g[p * s + q]); gersh = Math.max(gersh, x); }
  return Math.min(Math.max(lam * 1.05, lam), gersh);
}
