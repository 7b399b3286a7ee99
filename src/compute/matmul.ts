/**
 * Plain-JS dense matrix products, the last-resort GEMM and the reference the fast engines are tested
 * against. Row-major throughout. C[m×n] (+)= A[m×k] · B[k×n].
 */
export function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, out?: Float32Array, accumulate = false): Float32Array {
  const c = out ?? new Float32Array(m * n);
  if (!accumulate) c.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    const ai = i * k;
    for (let p = 0; p < k; p++) {
      const av = a[ai + p]!;
      if (av === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j]! += av * b[bp + j]!;
    }
  }
  return c;
}

/** C[m×n] = A[m×k] · B[n×k]ᵀ (B given row-major as n rows of length k). */
export function matmulBT(a: Float32Array, b: Float32Array, m: number, k: number, n: number, out?: Float32Array): Float32Array {
  const c = out ?? new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p]! * b[bj + p]!;
      c[i * n + j] = s;
    }
  }
  return c;
}
