// The step's sparse forward against the reference forward pass (src/sae/forward.ts), and the threaded
// step (kernel workers over the shared arena) against the single-threaded one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsGemm } from '../../../src/compute/gemm';
import { modelConfig } from '../../../src/sae/objectives';
import type { ArchName as TrainArch } from '../../../src/sae/arch/registry';
import { buildLayout } from '../../../src/train/layout';
import { StepEngine } from '../../../src/train/stepEngine';
import { WorkerPool } from '../../../src/train/pool';
import { exportSae } from '../../../src/train/export';
import type { ResolvedOptions } from '../../../src/train/options';
import { forward } from '../../../src/sae/forward';
import { Rng } from '../../../src/train/rng';

const D_IN = 24, D_SAE = 50, B = 33;

function engine(arch: TrainArch, threads: number, captureGrads: boolean): { eng: StepEngine; pool?: WorkerPool } {
  const cfg = modelConfig(arch, D_IN, D_SAE, B, { k: 5, captureGrads });
  const layout = buildLayout(cfg, threads);
  const buffer = new SharedArrayBuffer(layout.bytes);
  const pool = threads > 1 ? new WorkerPool(new Int32Array(buffer, layout.regions.get('control')!.offset, 16), cfg, threads, buffer) : undefined;
  const eng = new StepEngine(cfg, buffer, jsGemm, threads, pool);
  const f = eng.views.f32;
  const rng = new Rng(9);
  for (const n of ['wEncT', 'wDec']) for (let i = 0; i < f[n]!.length; i++) f[n]![i] = rng.normal() * 0.3;
  for (let i = 0; i < D_SAE; i++) { f.bEnc![i] = rng.normal() * 0.1; if (arch === 'jumprelu') f.logTheta![i] = Math.log(0.3); }
  for (let i = 0; i < D_IN; i++) f.bDec![i] = rng.normal() * 0.1;
  for (let i = 0; i < f.x!.length; i++) f.x![i] = rng.normal();
  if (cfg.unitNormDecoder) for (let i = 0; i < D_SAE; i++) {
    const row = f.wDec!.subarray(i * D_IN, (i + 1) * D_IN);
    const n = Math.hypot(...row);
    for (let q = 0; q < D_IN; q++) row[q]! /= n;
  }
  return { eng, pool };
}

for (const arch of ['relu', 'topk', 'jumprelu'] as const) {
  test(`${arch}: the step's sparse reconstruction equals the reference forward pass`, () => {
    const { eng } = engine(arch, 1, true);
    const x = eng.views.f32.x!.slice();
    const opts = { sparsityCoef: 0.1, lr: 0, batch: B, seed: 0 } as unknown as ResolvedOptions;
    const sae = exportSae(eng, opts, 1, 0, 'js');
    eng.step({ lr: 0, sparsityCoef: 0.1, deadTokens: 1e9 });
    const { recon, codes } = forward(sae, x, B);
    const g = eng.views.f32.g!;
    let worst = 0, l0 = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! + (g[i]! * B) / 2 - recon[i]!));
    for (const c of codes) if (c > 0) l0++;
    assert.ok(worst < 1e-5, `x̂ differs by ${worst}`);
    assert.ok(l0 > 0);
  });
}

for (const arch of ['relu', 'topk', 'batchtopk', 'jumprelu'] as const) {
  test(`${arch}: two threads give the single-threaded step`, async () => {
    const one = engine(arch, 1, false), two = engine(arch, 2, false);
    try {
      for (let s = 0; s < 3; s++) {
        const a = one.eng.step({ lr: 1e-2, sparsityCoef: 0.1, deadTokens: B * 2 });
        const b = two.eng.step({ lr: 1e-2, sparsityCoef: 0.1, deadTokens: B * 2 });
        assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.max(1, a.loss), `step ${s}: loss ${a.loss} vs ${b.loss}`);
      }
      for (const n of ['wEncT', 'wDec', 'bEnc', 'bDec']) {
        const p = one.eng.views.f32[n]!, q = two.eng.views.f32[n]!;
        let worst = 0;
        for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - q[i]!));
        assert.ok(worst < 1e-5, `${n} differs by ${worst}`);
      }
    } finally {
      await two.pool?.close();
    }
  });
}
