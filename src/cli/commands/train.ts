import type { Command } from 'commander';
import { startTraining } from '../../train/api';
import type { TrainOptions } from '../../train/api';
import { startTorchTraining } from '../../train/torchBackend';
import { checkpointPath, readCheckpointMeta } from '../../train/checkpoint';
import type { TorchOptions } from '../../train/torchBackend';
import type { TrainingProgress } from '../../protocol/training';
import { batchtopk } from '../../sae/arch/batchtopk';
import { archSpec, DEFAULT_ARCH, isTrainable, trainFacts, TRAINABLE_ARCHS } from '../../sae/arch/registry';
import type { ArchName } from '../../sae/arch/registry';
import { relu } from '../../sae/arch/relu';
import { B_DEC_INITS, DEFAULT_WEIGHT_ALPHA, WEIGHTING_MODES } from '../../train/options';
import type { WeightingMode } from '../../train/options';
import { ENGINE_PREFERENCES } from '../../compute/engine';
import type { EnginePreference } from '../../compute/engine';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { adviceText, runWarnings } from '../../train/outcome';
import type { TrainSetting } from '../../train/outcome';
import type { Activation } from '../../sae/types';
import { action, emit, globals, InputError, intOption, numberOption, warn } from '../common';

interface TrainCliOptions {
  activations?: string[]; out: string; arch: string; width?: number; k?: number; l1?: number; tokens?: number; batch?: number;
  lr?: number; seed?: number; threads?: number; resume?: boolean; engine?: TrainOptions['engine']; checkpointEvery?: number;
  nonFinite?: 'skip' | 'stop'; tensor?: string; unitNormDecoder?: boolean; bDecInit?: string; normalize?: boolean; resampleEvery?: number;
  deadTokens?: number; lrWarmup?: number; lrDecay?: number; l1Warmup?: number; memoryBudget?: number;
  weighting?: string; weightAlpha?: number; groundTruth?: string;
  source?: string; target?: string; skip?: boolean; crosscoder?: boolean; matryoshkaWidths?: string;
  backend: string; nproc?: number; python?: string; device?: string; bf16?: boolean; tf32?: boolean;
  hookName?: string; modelName?: string; force?: boolean;
}

/** The flag for each setting a run's warning may name (src/train/outcome.ts). */
const SETTING_FLAG: Record<TrainSetting, string> = { l1: '--l1', k: '--k', resampleEvery: '--resample-every', tokens: '--tokens' };

/** An existing folder with anything in it is another run's output: kept unless the user says otherwise. */
function checkOutFolder(out: string, resume: boolean, force: boolean): void {
  if (resume || force || !existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new InputError(out, '--out exists and is not a folder');
  if (readdirSync(out).length > 0) throw new InputError(out, 'is not empty (another run?); pass --resume to continue it or --force to replace it');
}

function fmtCount(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

/** One status line, rewritten in place on a terminal. */
function progressLine(p: TrainingProgress): string {
  const width = 24;
  const done = Math.round((p.step / Math.max(p.totalSteps, 1)) * width);
  const eta = Number.isFinite(p.etaSeconds) ? `${Math.floor(p.etaSeconds / 60)}m${String(Math.round(p.etaSeconds % 60)).padStart(2, '0')}s` : '?';
  return `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${p.step}/${p.totalSteps} ${fmtCount(p.tokens)} tok  loss ${p.loss.total?.toFixed(4)}  EV ${p.explainedVariance.toFixed(3)}  L0 ${p.l0.toFixed(1)}  dead ${(p.deadFraction * 100).toFixed(1)}%  ${fmtCount(Math.round(p.tokensPerSecond))} tok/s  eta ${eta}`;
}

function crosscoderLine(summary: Record<string, unknown>): string {
  const c = (summary.crosscoder ?? {}) as { relativeNormCounts?: { onlyFirst: number; onlySecond: number; shared: number }; latentsFile?: string };
  const n = c.relativeNormCounts;
  return (n ? `relative decoder norm: ${n.onlyFirst} latents only in source 1 (r < 0.1), ${n.onlySecond} only in source 2 (r > 0.9), ${n.shared} shared (0.3 < r < 0.7); ` : '') + `per-latent norms and cosines in ${String(c.latentsFile)}`;
}

/** What --l1 means per trainable architecture with a penalty, and its default, from the registry. */
function sparsityHelp(): string {
  return TRAINABLE_ARCHS.filter((a) => trainFacts(a).penalty !== 'none')
    .map((a) => `${a}: ${(trainFacts(a).penaltyLabel ?? '').toUpperCase()} coefficient, default ${trainFacts(a).defaultSparsityCoef}`).join('; ');
}

/** startTraining's signature, on the PyTorch backend with the CLI's device options. */
function startTorch(opts: TrainOptions, o: TrainCliOptions): typeof startTraining {
  if (!['auto', 'cpu', 'cuda'].includes(o.device ?? 'auto')) throw new InputError('--device', `expected auto, cpu or cuda, got '${String(o.device)}'`);
  return (_, onEvent) => startTorchTraining(opts, { python: o.python, nproc: o.nproc, device: o.device as TorchOptions['device'], bf16: o.bf16, tf32: o.tf32 }, onEvent);
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train an SAE on local activations (in worker threads); writes a SAELens v6 folder, sparsity.safetensors and training_log.jsonl')
    .option('--activations <files...>', '.npy or .safetensors file(s) of [tokens, d_in] float rows (F32/F16/BF16), or a capture folder (<folder>#<site>); with --crosscoder, one row-aligned file per source')
    .requiredOption('--out <dir>', 'output folder (checkpoints go to <dir>/checkpoints)')
    .option('--arch <arch>', `architecture: ${TRAINABLE_ARCHS.join('|')}`, DEFAULT_ARCH)
    .option('--width <n>', 'd_sae, the number of latents', intOption('width'))
    .option('--k <k>', `${TRAINABLE_ARCHS.filter((a) => archSpec(a).usesK).join('/')}: active latents per row`, intOption('k'))
    .option('--l1 <c>', `sparsity coefficient (${sparsityHelp()})`, numberOption('l1', 0))
    .option('--tokens <n>', 'tokens to train on (default: one pass over the file)', intOption('tokens'))
    .option('--batch <b>', 'rows per step', intOption('batch'), 4096)
    .option('--lr <lr>', 'Adam learning rate', numberOption('lr', 0), 3e-4)
    .option('--seed <s>', 'seed (initialisation, shuffling, resampling)', intOption('seed', 0), 0)
    .option('--threads <t>', 'worker threads for the step', intOption('threads', 1, 64))
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--force', 'train into a non-empty --out folder, replacing the SAE there')
    .option('--hook-name <name>', "the model hook the activations come from (recorded as SAELens metadata.hook_name), e.g. blocks.8.hook_resid_pre")
    .option('--model-name <name>', 'the model the activations come from (recorded as SAELens metadata.model_name), e.g. gpt2')
    .option('--engine <e>', `GEMM engine: ${ENGINE_PREFERENCES.join('|')}`, 'auto')
    .option('--checkpoint-every <steps>', 'steps between checkpoints', intOption('checkpoint-every'), 1000)
    .option('--non-finite <mode>', 'rows with NaN/Inf: skip (and count) or stop', 'skip')
    .option('--tensor <name>', 'which 2-D tensor of a .safetensors file (or which site of a capture folder) holds the activations')
    .option('--unit-norm-decoder', 'relu: unit-norm decoder variant instead of decoder-norm-weighted L1; topk: decoder rows kept at unit norm (default: free after a unit-norm start)')
    .option('--b-dec-init <how>', `where b_dec starts: ${B_DEC_INITS.join('|')} of a sample of rows (zeros: 0)`, 'geometric_median')
    .option('--no-normalize', 'do not scale activations to mean norm √d_in while training')
    .option('--resample-every <steps>', 'resample dead latents every N steps (0: never)', intOption('resample-every', 0))
    .option('--dead-tokens <n>', 'tokens without firing after which a latent is dead', intOption('dead-tokens'))
    .option('--lr-warmup <steps>', 'linear learning-rate warm-up steps', intOption('lr-warmup', 0))
    .option('--lr-decay <steps>', 'linear decay to 0 over the last N steps', intOption('lr-decay', 0))
    .option('--l1-warmup <steps>', 'sparsity-coefficient warm-up steps', intOption('l1-warmup', 0))
    .option('--memory-budget <bytes>', 'bytes the activation reader may hold', intOption('memory-budget', 1 << 20))
    .option('--weighting <mode>', 'weighted SAE: reconstruction weighted per input dimension by Γ: none|variance|oracle', 'none')
    .option('--weight-alpha <a>', `variance weighting: γ_i ∝ Var(x_i)^α (default ${DEFAULT_WEIGHT_ALPHA})`, numberOption('weight-alpha'))
    .option('--source <file>', 'transcoder: input rows at site A (same as --activations with one file)')
    .option('--target <file>', 'transcoder: target rows at site B, row-aligned with the input (any width d_out)')
    .option('--skip', 'transcoder: skip connection W_skip (relu: SAELens skip_transcoder)')
    .option('--crosscoder', 'crosscoder: the --activations files are row-aligned sources sharing one code (relu, group lasso over sources)')
    .option('--matryoshka-widths <list>', 'Matryoshka BatchTopK: comma-separated prefix widths, e.g. 128,512,2048 (the full width is appended)')
    .option('--ground-truth <path>', 'oracle weighting: synthetic folder or its ground_truth.safetensors (mixing matrix)')
    .option('--backend <b>', 'builtin (this machine, worker threads) or torch (the PyTorch backend: CUDA when present, else CPU)', 'builtin')
    .option('--nproc <n>', 'torch: processes under torchrun (one per GPU; gloo on CPU)', intOption('nproc', 1, 1024))
    .option('--python <path>', 'torch: the Python interpreter (default $SAE_WORKBENCH_PYTHON, else python3)')
    .option('--device <d>', 'torch: auto|cpu|cuda', 'auto')
    .option('--bf16', 'torch on CUDA: bfloat16 autocast (float32 weights and Adam)')
    .option('--tf32', 'torch on CUDA: TF32 matmuls')
    .action(action(async (o: TrainCliOptions, cmd: Command) => {
      const g = globals(cmd);
      if (o.backend !== 'builtin' && o.backend !== 'torch') throw new InputError('--backend', `expected builtin or torch, got '${o.backend}'`);
      if (o.backend !== 'torch' && (o.nproc ?? 1) > 1) throw new InputError('--nproc', 'runs several processes under torchrun: use it with --backend torch');
      if (o.resume && o.backend !== 'torch' && (readCheckpointMeta(o.out)?.meta as { backend?: string } | undefined)?.backend === 'torch') throw new InputError(checkpointPath(o.out), 'was written by the PyTorch backend: resume it with --backend torch');
      if (!isTrainable(o.arch)) throw new InputError('--arch', `'${o.arch}' is not one of ${TRAINABLE_ARCHS.join(', ')}`);
      if (!o.resume && o.width === undefined) throw new InputError('--width', 'required (the number of latents)');
      if (o.nonFinite !== 'skip' && o.nonFinite !== 'stop') throw new InputError('--non-finite', `expected skip or stop, got '${String(o.nonFinite)}'`);
      if (!ENGINE_PREFERENCES.includes((o.engine ?? 'auto') as EnginePreference)) throw new InputError('--engine', `expected one of ${ENGINE_PREFERENCES.join(', ')}, got '${String(o.engine)}'`);
      checkOutFolder(o.out, !!o.resume, !!o.force);
      if (o.source && o.activations) throw new InputError('--source', 'give the input rows once: --source or --activations');
      const activations = o.source ? [o.source] : o.activations;
      if (!activations?.length) throw new InputError('--activations', 'required (or --source with --target for a transcoder)');
      if (o.source && !o.target) throw new InputError('--source', 'is the transcoder input; give --target too (or use --activations for an SAE)');
      let matryoshkaWidths: number[] | undefined;
      if (o.matryoshkaWidths !== undefined) {
        matryoshkaWidths = o.matryoshkaWidths.split(',').map((v) => Number(v.trim()));
        if (!matryoshkaWidths.every((w) => Number.isSafeInteger(w) && w > 0)) throw new InputError('--matryoshka-widths', `expected comma-separated positive integers, got '${o.matryoshkaWidths}'`);
        if (cmd.getOptionValueSource('arch') !== 'cli') o.arch = batchtopk.name;
        else if (o.arch !== batchtopk.name) throw new InputError('--arch', `Matryoshka SAEs are BatchTopK; got ${o.arch}`);
      }
      if (o.crosscoder && cmd.getOptionValueSource('arch') !== 'cli') o.arch = relu.name;
      if (!(WEIGHTING_MODES as readonly string[]).includes(o.weighting ?? 'none')) throw new InputError('--weighting', `expected one of ${WEIGHTING_MODES.join(', ')}, got '${String(o.weighting)}'`);
      const explicit = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
      const opts: TrainOptions = {
        activations, outDir: o.out, arch: o.arch as ArchName, width: o.width ?? 0,
        k: o.k, l1: o.l1, tokens: o.tokens, batch: o.batch, lr: o.lr, seed: o.seed, threads: o.threads ?? 2,
        engine: o.engine, resume: !!o.resume, checkpointEvery: o.checkpointEvery, onNonFinite: o.nonFinite, tensorName: o.tensor,
        unitNormDecoder: o.unitNormDecoder, bDecInit: o.bDecInit as TrainOptions['bDecInit'], normalize: o.normalize, resampleEvery: o.resampleEvery, deadTokens: o.deadTokens,
        lrWarmupSteps: o.lrWarmup, lrDecaySteps: o.lrDecay, sparsityWarmupSteps: o.l1Warmup, memoryBudget: o.memoryBudget,
        weighting: o.weighting as WeightingMode, weightAlpha: o.weightAlpha, groundTruth: o.groundTruth,
        target: o.target, skip: o.skip, crosscoder: o.crosscoder, matryoshkaWidths,
        hookName: o.hookName, modelName: o.modelName,
      };
      if (o.resume) {
        // a resumed run takes its options from the checkpoint; only what was typed is checked against it
        for (const key of ['arch', 'k', 'batch', 'lr', 'seed'] as const) if (!explicit(key)) delete (opts as unknown as Record<string, unknown>)[key];
        if (o.width === undefined) delete (opts as unknown as Record<string, unknown>).width;
        if (!explicit('threads')) delete opts.threads;
      }
      const tty = process.stderr.isTTY && !g.json;
      let lastLen = 0;
      const handle = (o.backend === 'torch' ? startTorch(opts, o) : startTraining)(opts, (e) => {
        if (e.type === 'progress') {
          if (tty) {
            const line = progressLine(e.progress).slice(0, (process.stderr.columns || 120) - 1);
            process.stderr.write(`\r${line}${' '.repeat(Math.max(0, lastLen - line.length))}`);
            lastLen = line.length;
          }
        } else if (e.type === 'checkpoint' && !tty && !g.json) {
          process.stderr.write(`checkpoint at step ${e.step}: ${e.path}\n`);
        }
      });
      let interrupts = 0;
      const onSigint = (): void => {
        if (++interrupts > 1) process.exit(130);
        process.stderr.write('\nstopping after this step (checkpoint, then exit; Ctrl-C again to quit now)\n');
        handle.cancel();
      };
      process.on('SIGINT', onSigint);
      try {
        const summary = await handle.done;
        if (tty) process.stderr.write('\n');
        for (const note of (summary.engineNotes as string[] | undefined) ?? []) warn(note);
        for (const w of runWarnings(summary, String(summary.arch ?? opts.arch) as Activation)) warn(adviceText(w, (k) => SETTING_FLAG[k]));
        emit(g, summary, () => {
          const f = summary.final as { explainedVariance: number; l0: number; deadFraction: number; mse: number } | undefined;
          return [
            `trained ${String(summary.arch)} d_in ${String(summary.dIn)} → d_sae ${String(summary.width)} on ${fmtCount(summary.tokens as number)} tokens in ${(summary.seconds as number).toFixed(1)} s (${fmtCount(Math.round(summary.tokensPerSecond as number))} tok/s, engine ${String(summary.engine)})`,
            f ? `last batch: EV ${f.explainedVariance.toFixed(4)}, L0 ${f.l0.toFixed(2)}, dead ${(f.deadFraction * 100).toFixed(2)}%, mse/token ${f.mse.toPrecision(4)}` : '',
            (summary.skippedRows as number) > 0 ? `skipped ${String(summary.skippedRows)} rows with NaN/Inf` : '',
            summary.kind === 'crosscoder' ? crosscoderLine(summary) : '',
            `wrote ${String(summary.outDir)} (${summary.kind === 'crosscoder' ? 'crosscoder format' : summary.kind === 'transcoder' ? 'SAELens v6 transcoder' : 'SAELens v6'})`,
          ].filter(Boolean).join('\n');
        });
      } catch (e) {
        if (tty) process.stderr.write('\n');
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
      }
    }));
}
