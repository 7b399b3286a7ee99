/**
 * The tied, bias-free model of Cui et al.'s theory (docs/theory.md §A7): codes σ(W x), reconstruction
 * x̂ = Wᵀσ(W x), W [m, d]. Used by the WSAE reproduction on G5 and its unit tests.
 */
export function tiedCodes(w: Float32Array, m: number, d: number, x: Float32Array, n: number): Float32Array {
  const codes = new Float32Array(n * m);
  for (let r = 0; r < n; r++) for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += w[i * d + j]! * x[r * d + j]!;
    codes[r * m + i] = s > 0 ? s : 0;
  }
  return codes;
}

export function tiedReconstruct(w: Float32Array, m: number, d: number, codes: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < m; i++) {
    const c = codes[r * m + i]!;
    if (c === 0) continue;
    for (let j = 0; j < d; j++) out[r * d + j]! += c * w[i * d + j]!;
  }
  return out;
}

/** L_GT(W) = E‖s − σ(W W_p s)‖² for ground-truth codes s [n, m] whose latents are aligned with W's rows. */
export function tiedGroundTruthLoss(w: Float32Array, m: number, d: number, x: Float32Array, s: Float32Array, n: number): number {
  const codes = tiedCodes(w, m, d, x, n);
  let loss = 0;
  for (let i = 0; i < n * m; i++) loss += (s[i]! - codes[i]!) ** 2;
  return loss / n;
}
