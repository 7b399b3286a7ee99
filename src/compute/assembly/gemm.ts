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

// C[i, j] = Σ_p A(i, p) · B[p, j] with A(i, p) = A[i·sI + p·sP] (so A or Aᵀ), B row-major [k × n]: the
// dense decoder path (F·W_dec, and the gradient blocks Fᵀ·g, dZᵀ·x). A 2 × 16 tile: two broadcast A
// values and four B vectors feed eight accumulators per p. The p range is cut into blocks of 128 so that
// the block of B rows stays in cache while every row pair of A passes (C accumulates across blocks).
// n must be a multiple of 4.
export function gemmAB(m: i32, n: i32, k: i32, a: usize, sI: i32, sP: i32, b: usize, ldb: i32, c: usize, ldc: i32): void {
  const PB = 128;
  if (k <= 0) {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j += 4) v128.store(c + (<usize>(i * ldc + j) << 2), f32x4.splat(0));
    return;
  }
  for (let p0 = 0; p0 < k; p0 += PB) {
    const p1 = min(p0 + PB, k);
    const first = p0 == 0;
    let i = 0;
    for (; i + 1 < m; i += 2) {
      const a0 = a + (<usize>(i * sI) << 2);
      const a1 = a0 + (<usize>sI << 2);
      let j = 0;
      for (; j + 15 < n; j += 16) {
        const o0 = c + (<usize>(i * ldc + j) << 2), o1 = o0 + (<usize>ldc << 2);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
        if (!first) {
          c00 = v128.load(o0); c01 = v128.load(o0, 16); c02 = v128.load(o0, 32); c03 = v128.load(o0, 48);
          c10 = v128.load(o1); c11 = v128.load(o1, 16); c12 = v128.load(o1, 32); c13 = v128.load(o1, 48);
        }
        for (let p = p0; p < p1; p++) {
          const po = <usize>(p * sP) << 2;
          const x0 = f32x4.splat(load<f32>(a0 + po)), x1 = f32x4.splat(load<f32>(a1 + po));
          const bp = b + (<usize>(p * ldb + j) << 2);
          const w0 = v128.load(bp), w1 = v128.load(bp, 16), w2 = v128.load(bp, 32), w3 = v128.load(bp, 48);
          c00 = f32x4.add(c00, f32x4.mul(x0, w0)); c01 = f32x4.add(c01, f32x4.mul(x0, w1));
          c02 = f32x4.add(c02, f32x4.mul(x0, w2)); c03 = f32x4.add(c03, f32x4.mul(x0, w3));
          c10 = f32x4.add(c10, f32x4.mul(x1, w0)); c11 = f32x4.add(c11, f32x4.mul(x1, w1));
          c12 = f32x4.add(c12, f32x4.mul(x1, w2)); c13 = f32x4.add(c13, f32x4.mul(x1, w3));
        }
        v128.store(o0, c00); v128.store(o0, c01, 16); v128.store(o0, c02, 32); v128.store(o0, c03, 48);
        v128.store(o1, c10); v128.store(o1, c11, 16); v128.store(o1, c12, 32); v128.store(o1, c13, 48);
      }
      for (; j < n; j += 4) {
        const o0 = c + (<usize>(i * ldc + j) << 2), o1 = c + (<usize>((i + 1) * ldc + j) << 2);
        let c0 = first ? f32x4.splat(0) : v128.load(o0), c1 = first ? f32x4.splat(0) : v128.load(o1);
        for (let p = p0; p < p1; p++) {
          const po = <usize>(p * sP) << 2;
          const w = v128.load(b + (<usize>(p * ldb + j) << 2));
          c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(a0 + po)), w));
          c1 = f32x4.add(c1, f32x4.mul(f32x4.splat(load<f32>(a1 + po)), w));
        }
        v128.store(o0, c0);
        v128.store(o1, c1);
      }
    }
    for (; i < m; i++) {
      const ai = a + (<usize>(i * sI) << 2);
      for (let j = 0; j < n; j += 4) {
        const o = c + (<usize>(i * ldc + j) << 2);
        let c0 = first ? f32x4.splat(0) : v128.load(o);
        for (let p = p0; p < p1; p++) c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(ai + (<usize>(p * sP) << 2))), v128.load(b + (<usize>(p * ldb + j) << 2))));
        v128.store(o, c0);
      }
    }
  }
}

// Adam on k parameters p with moments m, v and gradient g, as torch.optim.Adam (float32 throughout):
// m ← β1·m + c1·g, v ← β2·v + c2·g² (c = 1 − β), p ← p − step·m / (√v / sbc2 + eps), with step = lr / (1 − β1^t)
// and sbc2 = √(1 − β2^t). One pass over the four rows. Returns Σ p² after the update (the unit-norm
// decoder renormalises the row with it).
export function adam(p: usize, m: usize, v: usize, g: usize, k: i32, step: f32, sbc2: f32, b1: f32, c1: f32, b2: f32, c2: f32, eps: f32): f32 {
  const k4 = k & ~3;
  const vb1 = f32x4.splat(b1), vc1 = f32x4.splat(c1), vb2 = f32x4.splat(b2), vc2 = f32x4.splat(c2);
  const vstep = f32x4.splat(step), vs = f32x4.splat(sbc2), veps = f32x4.splat(eps);
  let ss = f32x4.splat(0);
  for (let q = 0; q < k4; q += 4) {
    const o = <usize>q << 2;
    const gq = v128.load(g + o);
    const mq = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vc1, gq));
    const vq = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(f32x4.mul(vc2, gq), gq));
    v128.store(m + o, mq); v128.store(v + o, vq);
    const pq = f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(vstep, mq), f32x4.add(f32x4.div(f32x4.sqrt(vq), vs), veps)));
    v128.store(p + o, pq);
    ss = f32x4.add(ss, f32x4.mul(pq, pq));
  }
  let s = hsum(ss);
  for (let q = k4; q < k; q++) {
    const o = <usize>q << 2;
    const gq = load<f32>(g + o);
    const mq = b1 * load<f32>(m + o) + c1 * gq;
    const vq = b2 * load<f32>(v + o) + c2 * gq * gq;
    store<f32>(m + o, mq); store<f32>(v + o, vq);
    const pq = load<f32>(p + o) - (step * mq) / (sqrt<f32>(vq) / sbc2 + eps);
    store<f32>(p + o, pq);
    s += pq * pq;
  }
  return s;
}

/** x[p] *= alpha over k floats. */
export function scale(x: usize, alpha: f32, k: i32): void {
  const k4 = k & ~3;
  const av = f32x4.splat(alpha);
  for (let p = 0; p < k4; p += 4) { const o = <usize>p << 2; v128.store(x + o, f32x4.mul(av, v128.load(x + o))); }
  for (let p = k4; p < k; p++) { const o = <usize>p << 2; store<f32>(x + o, alpha * load<f32>(x + o)); }
}

// The selection's pass over one row's pre-activations z[0..n): adds bias[0..n) to them in place (bias 0:
// none), and writes each value above g (strict ≠ 0) or at or above it (strict = 0), with its index idx0 + i,
// to outVal/outIdx in index order. Returns how many. Most values fall below g: four are added and
// compared per instruction, and only a group with one above looks at its lanes.
export function biasFilter(z: usize, bias: usize, n: i32, g: f32, strict: i32, outVal: usize, outIdx: usize, idx0: i32): i32 {
  const gv = f32x4.splat(g);
  const n4 = n & ~3;
  let c = 0;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    let v = v128.load(z + o);
    if (bias) { v = f32x4.add(v, v128.load(bias + o)); v128.store(z + o, v); }
    const bits = i32x4.bitmask(strict ? f32x4.gt(v, gv) : f32x4.ge(v, gv));
    if (bits) {
      if (bits & 1) { store<f32>(outVal + (<usize>c << 2), f32x4.extract_lane(v, 0)); store<i32>(outIdx + (<usize>c << 2), idx0 + i); c++; }
      if (bits & 2) { store<f32>(outVal + (<usize>c << 2), f32x4.extract_lane(v, 1)); store<i32>(outIdx + (<usize>c << 2), idx0 + i + 1); c++; }
      if (bits & 4) { store<f32>(outVal + (<usize>c << 2), f32x4.extract_lane(v, 2)); store<i32>(outIdx + (<usize>c << 2), idx0 + i + 2); c++; }
      if (bits & 8) { store<f32>(outVal + (<usize>c << 2), f32x4.extract_lane(v, 3)); store<i32>(outIdx + (<usize>c << 2), idx0 + i + 3); c++; }
    }
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    let x = load<f32>(z + o);
    if (bias) { x += load<f32>(bias + o); store<f32>(z + o, x); }
    if (strict ? x > g : x >= g) { store<f32>(outVal + (<usize>c << 2), x); store<i32>(outIdx + (<usize>c << 2), idx0 + i); c++; }
  }
  return c;
}

// One active (row n, latent i) pair of the sparse backward pass, in one call: df = base + g·d (g: row n's
// ∂L/∂x̂, d: latent i's decoder row, dOut long) with gradDec += f·g in the same pass over g, then
// gradEnc += df·xc (row n's encoder input, dIn long). The same operations in the same order as dot, then
// axpy, then axpy. Returns df.
export function pairGrad(g: usize, d: usize, gradDec: usize, f: f32, base: f64, dOut: i32, xc: usize, gradEnc: usize, dIn: i32): f64 {
  const k4 = dOut & ~3;
  const fv = f32x4.splat(f);
  let s = f32x4.splat(0);
  for (let p = 0; p < k4; p += 4) {
    const o = <usize>p << 2;
    const gv = v128.load(g + o);
    s = f32x4.add(s, f32x4.mul(gv, v128.load(d + o)));
    v128.store(gradDec + o, f32x4.add(v128.load(gradDec + o), f32x4.mul(fv, gv)));
  }
  let r = hsum(s);
  for (let p = k4; p < dOut; p++) r += load<f32>(g + (<usize>p << 2)) * load<f32>(d + (<usize>p << 2));
  for (let p = k4; p < dOut; p++) {
    const o = <usize>p << 2;
    store<f32>(gradDec + o, load<f32>(gradDec + o) + f * load<f32>(g + o));
  }
  const df = base + <f64>r;
  axpy(<f32>df, xc, gradEnc, dIn);
  return df;
}
