/**
 * The dense GEMM of the training step, behind one interface so that the engine can be chosen at start-up
 * (wasm SIMD, plain JS; see ./engine.ts). Operands live in one shared Float32 memory and are named by
 * element offsets, which is what a wasm kernel over a shared WebAssembly.Memory needs.
 *
 * The one product the step needs dense is the encoder's: Z[m×n] = A[m×k] · Bᵀ with B stored as n rows of
 * length k (W_enc transposed, one row per latent), so every dot product runs over contiguous memory.
 */
export interface GemmProvider {
  readonly name: string;
  /** C[i*ldc + j] = Σ_p A[i*lda + p] · B[j*ldb + p], for i < m, j < n (offsets in floats into mem). */
  abt(mem: Float32Array, m: number, n: number, k: number, aOff: number, lda: number, bOff: number, ldb: number, cOff: number, ldc: number): void;
  /**
   * C[i*ldc + j] = Σ_p A(i, p) · B[p*ldb + j] with A(i, p) = mem[aOff + i*sI + p*sP] (A or Aᵀ): the dense
   * decoder path. n must be a multiple of 4.
   */
  ab(mem: Float32Array, m: number, n: number, k: number, aOff: number, sI: number, sP: number, bOff: number, ldb: number, cOff: number, ldc: number): void;
  /** Σ_p mem[x+p]·mem[y+p] for p < k (the sparse loops' dot product). */
  dot(mem: Float32Array, x: number, y: number, k: number): number;
  /** mem[y+p] += alpha·mem[x+p] for p < k. */
  axpy(mem: Float32Array, alpha: number, x: number, y: number, k: number): void;
  /**
   * Adam (ADAM's β1, β2, eps) on the k parameters at p, moments at m and v, gradient at g; step = lr/(1 − β1^t),
   * sbc2 = √(1 − β2^t). Returns Σ p² after the update.
   */
  adam(mem: Float32Array, p: number, m: number, v: number, g: number, k: number, step: number, sbc2: number): number;
  /** mem[x+p] *= alpha for p < k. */
  scale(mem: Float32Array, alpha: number, x: number, k: number): void;
  /**
   * The selection's pass over one row: adds mem[bias..+n) to mem[z..+n) in place (bias < 0: none) and writes
   * the values above g (strict) or at or above it (g as a float32), with their indices idx0 + i, to
   * mem[outVal..] and, as Int32, to the same buffer at outIdx, in index order. Returns how many.
   */
  biasFilter(mem: Float32Array, z: number, bias: number, n: number, g: number, strict: boolean, outVal: number, outIdx: number, idx0: number): number;
  /**
   * One active (row, latent) pair of the sparse backward pass: df = base + Σ mem[g+p]·mem[d+p] (p < dOut), with
   * mem[gradDec+p] += f·mem[g+p] and then mem[gradEnc+q] += df·mem[xc+q] (q < dIn); returns df. As dot, axpy, axpy.
   */
  pairGrad(mem: Float32Array, g: number, d: number, gradDec: number, f: number, base: number, dOut: number, xc: number, gradEnc: number, dIn: number): number;
}

/** torch.optim.Adam's defaults, which the step uses for every parameter. */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/**
 * Adam over k entries that may live in different arrays (p, m, v at their offsets, the gradient at g[go..]):
 * the JS kernel, and the step's scalars and b_dec. Returns Σ p² after the update.
 */
export function jsAdam(pa: Float32Array, po: number, ma: Float32Array, mo: number, va: Float32Array, vo: number, ga: ArrayLike<number>, go: number, k: number, step: number, sbc2: number): number {
  const { beta1, beta2, eps } = ADAM;
  let s = 0;
  for (let q = 0; q < k; q++) {
    const gq = ga[go + q]!;
    const mq = beta1 * ma[mo + q]! + (1 - beta1) * gq;
    const vq = beta2 * va[vo + q]! + (1 - beta2) * gq * gq;
    ma[mo + q] = mq; va[vo + q] = vq;
    const pq = (pa[po + q]! -= (step * mq) / (Math.sqrt(vq) / sbc2 + eps));
    s += pq * pq;
  }
  return s;
}

const int32Views = new WeakMap<Float32Array, Int32Array>();

export function jsBiasFilter(mem: Float32Array, z: number, bias: number, n: number, g: number, strict: boolean, outVal: number, outIdx: number, idx0: number): number {
  let idx = int32Views.get(mem);
  if (!idx) int32Views.set(mem, (idx = new Int32Array(mem.buffer, mem.byteOffset, mem.length)));
  const gf = Math.fround(g);
  let c = 0;
  for (let i = 0; i < n; i++) {
    let x = mem[z + i]!;
    if (bias >= 0) { x = Math.fround(x + mem[bias + i]!); mem[z + i] = x; }
    if (strict ? x > gf : x >= gf) { mem[outVal + c] = x; idx[outIdx + c] = idx0 + i; c++; }
  }
  return c;
}

export function jsPairGrad(mem: Float32Array, g: number, d: number, gradDec: number, f: number, base: number, dOut: number, xc: number, gradEnc: number, dIn: number): number {
  const df = base + jsDot(mem, g, d, dOut);
  jsAxpy(mem, f, g, gradDec, dOut);
  jsAxpy(mem, df, xc, gradEnc, dIn);
  return df;
}

export function jsScale(mem: Float32Array, alpha: number, x: number, k: number): void {
  for (let p = 0; p < k; p++) mem[x + p]! *= alpha;
}

export function jsDot(mem: Float32Array, x: number, y: number, k: number): number {
  let s = 0;
  for (let p = 0; p < k; p++) s += mem[x + p]! * mem[y + p]!;
  return s;
}

export function jsAxpy(mem: Float32Array, alpha: number, x: number, y: number, k: number): void {
  for (let p = 0; p < k; p++) mem[y + p]! += alpha * mem[x + p]!;
}

/** Plain JS, 2 rows × 4 columns per inner loop: the last resort, and the reference for the others. */
export function jsAb(mem: Float32Array, m: number, n: number, k: number, aOff: number, sI: number, sP: number, bOff: number, ldb: number, cOff: number, ldc: number): void {
  for (let i = 0; i < m; i++) {
    const c = cOff + i * ldc;
    mem.fill(0, c, c + n);
    for (let p = 0; p < k; p++) {
      const av = mem[aOff + i * sI + p * sP]!;
      if (av === 0) continue;
      const b = bOff + p * ldb;
      for (let j = 0; j < n; j++) mem[c + j]! += av * mem[b + j]!;
    }
  }
}

export const jsGemm: GemmProvider = {
  name: 'js',
  dot: jsDot,
  axpy: jsAxpy,
  adam: (mem, p, m, v, g, k, step, sbc2) => jsAdam(mem, p, mem, m, mem, v, mem, g, k, step, sbc2),
  scale: jsScale,
  biasFilter: jsBiasFilter,
  pairGrad: jsPairGrad,
  ab: jsAb,
  abt(mem, m, n, k, aOff, lda, bOff, ldb, cOff, ldc) {
    let i = 0;
    for (; i + 1 < m; i += 2) {
      const a0 = aOff + i * lda, a1 = a0 + lda;
      let j = 0;
      for (; j + 3 < n; j += 4) {
        const b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        for (let p = 0; p < k; p++) {
          const x0 = mem[a0 + p]!, x1 = mem[a1 + p]!;
          const w0 = mem[b0 + p]!, w1 = mem[b1 + p]!, w2 = mem[b2 + p]!, w3 = mem[b3 + p]!;
          s00 += x0 * w0; s01 += x0 * w1; s02 += x0 * w2; s03 += x0 * w3;
          s10 += x1 * w0; s11 += x1 * w1; s12 += x1 * w2; s13 += x1 * w3;
        }
        const c0 = cOff + i * ldc + j, c1 = c0 + ldc;
        mem[c0] = s00; mem[c0 + 1] = s01; mem[c0 + 2] = s02; mem[c0 + 3] = s03;
        mem[c1] = s10; mem[c1 + 1] = s11; mem[c1 + 2] = s12; mem[c1 + 3] = s13;
      }
      for (; j < n; j++) {
        const b0 = bOff + j * ldb;
        let s0 = 0, s1 = 0;
        for (let p = 0; p < k; p++) { s0 += mem[a0 + p]! * mem[b0 + p]!; s1 += mem[a1 + p]! * mem[b0 + p]!; }
        mem[cOff + i * ldc + j] = s0; mem[cOff + (i + 1) * ldc + j] = s1;
      }
    }
    for (; i < m; i++) {
      const a0 = aOff + i * lda;
      for (let j = 0; j < n; j++) {
        const b0 = bOff + j * ldb;
        let s = 0;
        for (let p = 0; p < k; p++) s += mem[a0 + p]! * mem[b0 + p]!;
        mem[cOff + i * ldc + j] = s;
      }
    }
  },
};
