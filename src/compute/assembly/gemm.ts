// AssemblyScript source of the WebAssembly SIMD kernels (built by scripts/prebuild/wasm-kernels.mjs into
// dist/kernels/gemm.wasm; the memory is imported and shared, so every worker's instance sees one arena).
// Pointers are byte offsets into that memory; strides are in floats.

// C[i, j] = Σ_p A[i, p] · B[j, p]: dot products over contiguous rows. A 2 × 4 register tile (8 f32x4
// accumulators, 6 loads per 8 multiply-adds), with B walked in blocks of 128 rows so that a block stays
// in cache while every row pair of A streams past it.
export function gemmABt(m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32): void {
  const NB = 128;
  const k4 = k & ~3;
  for (let jb = 0; jb < n; jb += NB) {
    const je = min(jb + NB, n);
    let i = 0;
    for (; i + 1 < m; i += 2) {
      const a0 = a + (<usize>(i * lda) << 2);
      const a1 = a0 + (<usize>lda << 2);
      let j = jb;
      for (; j + 3 < je; j += 4) {
        const b0 = b + (<usize>(j * ldb) << 2);
        const b1 = b0 + (<usize>ldb << 2);
        const b2 = b1 + (<usize>ldb << 2);
        const b3 = b2 + (<usize>ldb << 2);
        let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
        let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
        for (let p = 0; p < k4; p += 4) {
          const o = <usize>p << 2;
          const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o);
          const w0 = v128.load(b0 + o), w1 = v128.load(b1 + o), w2 = v128.load(b2 + o), w3 = v128.load(b3 + o);
          s00 = f32x4.add(s00, f32x4.mul(x0, w0)); s01 = f32x4.add(s01, f32x4.mul(x0, w1));
          s02 = f32x4.add(s02, f32x4.mul(x0, w2)); s03 = f32x4.add(s03, f32x4.mul(x0, w3));
          s10 = f32x4.add(s10, f32x4.mul(x1, w0)); s11 = f32x4.add(s11, f32x4.mul(x1, w1));
          s12 = f32x4.add(s12, f32x4.mul(x1, w2)); s13 = f32x4.add(s13, f32x4.mul(x1, w3));
        }
        let r00 = hsum(s00), r01 = hsum(s01), r02 = hsum(s02), r03 = hsum(s03);
        let r10 = hsum(s10), r11 = hsum(s11), r12 = hsum(s12), r13 = hsum(s13);
        for (let p = k4; p < k; p++) {
          const o = <usize>p << 2;
          const x0 = load<f32>(a0 + o), x1 = load<f32>(a1 + o);
          const w0 = load<f32>(b0 + o), w1 = load<f32>(b1 + o), w2 = load<f32>(b2 + o), w3 = load<f32>(b3 + o);
          r00 += x0 * w0; r01 += x0 * w1; r02 += x0 * w2; r03 += x0 * w3;
          r10 += x1 * w0; r11 += x1 * w1; r12 += x1 * w2; r13 += x1 * w3;
        }
        const c0 = c + (<usize>(i * ldc + j) << 2);
        const c1 = c0 + (<usize>ldc << 2);
        store<f32>(c0, r00); store<f32>(c0, r01, 4); store<f32>(c0, r02, 8); store<f32>(c0, r03, 12);
        store<f32>(c1, r10); store<f32>(c1, r11, 4); store<f32>(c1, r12, 8); store<f32>(c1, r13, 12);
      }
      for (; j < je; j++) {
        const bj = b + (<usize>(j * ldb) << 2);
        store<f32>(c + (<usize>(i * ldc + j) << 2), dot(a0, bj, k));
        store<f32>(c + (<usize>((i + 1) * ldc + j) << 2), dot(a1, bj, k));
      }
    }
    for (; i < m; i++) {
      const ai = a + (<usize>(i * lda) << 2);
      for (let j = jb; j < je; j++) store<f32>(c + (<usize>(i * ldc + j) << 2), dot(ai, b + (<usize>(j * ldb) << 2), k));
    }
  }
}

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** Σ_p x[p]·y[p] over k floats. */
export function dot(x: usize, y: usize, k: i32): f32 {
  const k4 = k & ~3;
  let s = f32x4.splat(0);
  for (let p = 0; p < k4; p += 4) {
    const o = <usize>p << 2;
    s = f32x4.add(s, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  let r = hsum(s);
  for (let p = k4; p < k; p++) r += load<f32>(x + (<usize>p << 2)) * load<f32>(y + (<usize>p << 2));
  return r;
}

/** y[p] += alpha·x[p] over k floats. */
export function axpy(alpha: f32, x: usize, y: usize, k: i32): void {
  const k4 = k & ~3;
  const av = f32x4.splat(alpha);
  for (let p = 0; p < k4; p += 4) {
    const o = <usize>p << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
  for (let p = k4; p < k; p++) {
    const o = <usize>p << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}
