/**
 * Owns the shared arena of a run and drives one step through its phases: thread 0 (the caller) runs its
 * own range of every phase and the small merges; a PhasePool runs the other ranges on kernel workers.
 */
import type { GemmProvider } from '../compute/gemm';
import { hasAuxReconstruction } from '../sae/objectives';
import type { ModelConfig } from '../sae/objectives';
import { buildLayout, S, viewsOf } from './layout';
import type { ArenaViews, Layout } from './layout';
import { ADAM, jsAdam } from '../compute/gemm';
import { candidatesFound, mergeTopK, nextGuess, pickHistogram } from './select';
import { Phase, runPhase } from './step';
import { makeStepThread } from './stepThread';
import { now, threadProfiles } from './profile';
import type { StepProfile } from './profile';
import type { StepThread } from './stepThread';

/** Runs a phase on threads 1..T−1 while the caller runs thread 0; `wait` returns when they are done. */
export interface PhasePool {
  start(phase: Phase): void;
  wait(): void;
  close(): Promise<void>;
}

export interface StepStats {
  /** mean_n ‖y_n − ŷ_n‖² of the full reconstruction (training units; y = x for SAEs). */
  mse: number;
  /** the sparsity term as it enters the loss (λ·penalty) */
  sparsity: number;
  auxk: number;
  loss: number;
  /** 1 − Σ‖e‖² / Σ‖x − x̄_batch‖² over the batch */
  explainedVariance: number;
  l0: number;
}

export interface Hyper { lr: number; sparsityCoef: number; deadTokens: number }

export class StepEngine {
  readonly layout: Layout;
  readonly views: ArenaViews;
  readonly thread0: StepThread;
  adamT = 0;

  constructor(readonly cfg: ModelConfig, readonly buffer: ArrayBufferLike, gemm: GemmProvider, threads: number, private readonly pool?: PhasePool) {
    this.layout = buildLayout(cfg, threads);
    if (buffer.byteLength < this.layout.bytes) throw new Error(`arena of ${buffer.byteLength} bytes is smaller than the layout's ${this.layout.bytes}`);
    this.views = viewsOf(buffer, this.layout);
    this.thread0 = makeStepThread(cfg, this.layout, buffer, this.views, gemm, 0);
  }

  /** Time the step's parts (./profile.ts) into lastProfile; off by default (the speed bench turns it on). */
  profile = false;
  lastProfile: StepProfile | undefined;
  private phaseWall = new Float64Array(Phase.Hist1 + 1);

  private all(phase: Phase): void {
    const t0 = this.profile ? now() : 0;
    this.pool?.start(phase);
    runPhase(this.thread0, phase);
    this.pool?.wait();
    if (this.profile) this.phaseWall[phase]! += now() - t0;
  }

  /**
   * BatchTopK's cut, after the first pass: from the candidates when there are at least k·B of them over all
   * threads, else (no guess, or one that missed) from histograms over Z; then the next step's guess.
   */
  private batchCut(): void {
    const sc = this.views.f64.scalars!, need = this.cfg.k * this.cfg.batch;
    const guessed = sc[S.bTopkGuess]! > 0, found = guessed ? candidatesFound(this.thread0) : 0;
    sc[S.bTopkFromCands] = guessed && found >= need ? 1 : 0;
    if (guessed && found < need) { this.cutMisses++; this.all(Phase.Hist1); }
    if (pickHistogram(this.thread0, 1)) { this.all(Phase.Hist2); pickHistogram(this.thread0, 2); }
    this.cutMargin = nextGuess(sc, guessed ? found / need : 1, this.cutMargin);
  }

  /** BatchTopK: the relative margin of the next guess below the last cut, and the steps whose guess missed. */
  cutMargin = 0.1;
  cutMisses = 0;

  /** One step on the batch already in views.f32.x (and views.f32.y for a separate target; training units). */
  step(h: Hyper): StepStats {
    const { cfg, views: v } = this;
    const { dIn, dOut, batch: B } = cfg;
    const f = v.f32, sc = v.f64.scalars!;
    const x = f.x!, xc = f.xc!, bDec = f.bDec!, mean = f.xMean!;
    const y = cfg.target ? f.y! : x;
    const prof = this.profile, wall = this.phaseWall;
    const tStart = prof ? now() : 0;
    sc[S.profile] = prof ? 1 : 0;
    if (prof) { v.f64.timing!.fill(0); wall.fill(0); }
    mean.fill(0);
    for (let n = 0; n < B; n++) for (let q = 0; q < dOut; q++) mean[q]! += y[n * dOut + q]!;
    for (let q = 0; q < dOut; q++) mean[q]! /= B;
    if (cfg.bDecInput) for (let n = 0; n < B; n++) for (let q = 0; q < dIn; q++) xc[n * dIn + q] = x[n * dIn + q]! - bDec[q]!;
    else xc.set(x);
    this.adamT++;
    sc[S.lr] = h.lr; sc[S.sparsityCoef] = h.sparsityCoef; sc[S.adamT] = this.adamT; sc[S.deadTokens] = h.deadTokens;
    let nDead = 0;
    if (cfg.auxK) { const since = v.f64.tokensSinceFired!; for (let i = 0; i < cfg.dSae; i++) if (since[i]! >= h.deadTokens) nDead++; }
    sc[S.nDead] = nDead;
    sc[S.kAuxNow] = Math.min(cfg.kAux, nDead);
    sc[S.auxScale] = cfg.selection === 'gate' ? 1 : Math.min(nDead / cfg.kAux, 1);

    const tEncode = prof ? now() : 0;
    this.all(Phase.Encode);
    const tMerge = prof ? now() : 0;
    if (cfg.selection === 'row-topk') mergeTopK(this.thread0, cfg.k, cfg.k, f.candVal!, v.i32.candIdx!, f.tau!, v.i32.tauIdx!);
    if (cfg.auxK && nDead > 0) mergeTopK(this.thread0, cfg.kAux, sc[S.kAuxNow]!, f.auxVal!, v.i32.auxIdx!, f.auxTau!, v.i32.auxTauIdx!);
    const tCut = prof ? now() : 0;
    if (cfg.selection === 'batch-topk') this.batchCut();
    const tActivate = prof ? now() : 0;
    this.all(Phase.Activate);
    this.all(Phase.Residual);
    this.all(Phase.Backward);
    const tFinish = prof ? now() : 0;

    // b_dec: Σ_n Σ_p ∂L/∂ŷ_p,n (segment 0 of g) plus each thread's input-path part
    const T = this.layout.threads;
    const grad = new Float32Array(dOut);
    const g = f.g!, part = f.bDecPart!;
    for (let n = 0; n < B; n++) for (let q = 0; q < dOut; q++) grad[q]! += g[n * dOut + q]!;
    for (let w = 0; w < T; w++) for (let q = 0; q < dOut; q++) grad[q]! += part[w * dOut + q]!;
    if (cfg.captureGrads) f.gradBDec!.set(grad);
    else {
      jsAdam(bDec, 0, f.m_bDec!, 0, f.v_bDec!, 0, grad, 0, dOut, h.lr / (1 - ADAM.beta1 ** this.adamT), Math.sqrt(1 - ADAM.beta2 ** this.adamT));
    }
    if (cfg.selection === 'batch-topk') {
      const tau = sc[S.bTopkTau]!;
      sc[S.bTopkThreshold] = (1 - cfg.thresholdLr) * sc[S.bTopkThreshold]! + cfg.thresholdLr * tau;
    }
    const sums = v.f64.sums!;
    let sse = 0, tot = 0, aux = 0, nnz = 0, l1 = 0, l0pen = 0, wsse = 0;
    for (let w = 0; w < T; w++) {
      const o = w * 16;
      sse += sums[o]!; tot += sums[o + 1]!; aux += sums[o + 2]!; nnz += sums[o + 3]!; l1 += sums[o + 4]!; l0pen += sums[o + 5]!; wsse += sums[o + 6]!;
    }
    const mse = sse / B;
    const sparsity = cfg.penalty === 'l1' ? (h.sparsityCoef * l1) / B : cfg.penalty === 'l0-step' ? (h.sparsityCoef * l0pen) / B : 0;
    // aux-k counts only while latents are dead; the gate's aux reconstruction is always on
    const auxOn = cfg.auxK ? nDead > 0 : hasAuxReconstruction(cfg);
    const auxk = auxOn ? (cfg.auxCoef * sc[S.auxScale]! * aux) / B : 0;
    // weighted or Matryoshka: the loss's reconstruction term is Σ_p ‖Γ(ŷ_p − y)‖², not the plain full-width one
    const recon = cfg.reconWeighted || cfg.prefixes.length > 1 ? wsse / B : mse;
    if (prof) {
      const tEnd = now();
      const hist = wall[Phase.Hist1]! + wall[Phase.Hist2]!;
      const phases = { encode: wall[Phase.Encode]!, hist, activate: wall[Phase.Activate]!, residual: wall[Phase.Residual]!, backward: wall[Phase.Backward]! };
      const inPhases = phases.encode + hist + phases.activate + phases.residual + phases.backward;
      this.lastProfile = {
        seconds: tEnd - tStart,
        serial: { prepare: tEncode - tStart, merge: tCut - tMerge, cut: tActivate - tCut - hist, finish: tEnd - tFinish },
        phases, threads: threadProfiles(v.f64.timing!, T, inPhases),
      };
    }
    return { mse, sparsity, auxk, loss: recon + sparsity + auxk, explainedVariance: tot > 0 ? 1 - sse / tot : NaN, l0: nnz / B };
  }
}
