/**
 * `sae-workbench synth KIND --out DIR`: writes a synthetic dataset with known ground truth (docs/theory.md §G)
 * as activations.npy + ground_truth.safetensors.
 */
import type { Command } from 'commander';
import { generate, parseKind, writeSynthetic } from '../../synthetic';
import type { GenerateOptions } from '../../synthetic';
import { action, emit, globals, InputError, intOption, numberOption, warn } from '../common';

interface SynthCliOptions extends GenerateOptions {
  out?: string;
  angle?: number;
}

const KIND_HELP = 'g1|independent, g2|hierarchy, g3|dense, g4|antipodal, g5|cui, g6|co-occurrence, g7|non-identifiable';

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('write a synthetic dataset with known ground truth: activations.npy and ground_truth.safetensors')
    .argument('<kind>', KIND_HELP)
    .requiredOption('--out <dir>', 'output folder')
    .option('--seed <n>', 'random seed (datasets are deterministic per seed)', intOption('seed', 0, 2 ** 31 - 1))
    .option('--tokens <n>', 'rows', intOption('tokens', 1, 1e8))
    .option('--d-in <n>', 'activation width d', intOption('d-in', 1, 65536))
    .option('--features <n>', 'number of ground-truth features', intOption('features', 1, 1e6))
    .option('--noise <sigma>', 'isotropic Gaussian noise σ', numberOption('noise', 0))
    .option('--bias-norm <x>', 'norm of the true offset b_true', numberOption('bias-norm', 0))
    .option('--sparsity <S>', 'g1/g3/g4/g5: feature sparsity S (active with probability 1−S)', numberOption('sparsity', 0, 1))
    .option('--max-interference <c>', 'g1/g3: target max |cos| between features', numberOption('max-interference', 0, 1))
    .option('--parents <n>', 'g2: parents', intOption('parents', 1, 1e5))
    .option('--children <n>', 'g2: exclusive children per parent', intOption('children', 0, 1e5))
    .option('--parent-rate <p>', 'g2: P(parent)', numberOption('parent-rate', 0, 1))
    .option('--child-rate <q>', 'g2: P(child | parent)', numberOption('child-rate', 0, 1))
    .option('--solo-rate <b>', 'g2: P(child ∧ ¬parent) per child (0 = nested)', numberOption('solo-rate', 0, 1))
    .option('--angle <deg>', 'g2: parent–child angle θ; g6: angle between A and B', numberOption('angle', 0, 180))
    .option('--magnitudes <m>', 'g2: constant | uniform (U[1,2])')
    .option('--dense-scale <sigma>', 'g3: σ_v of the dense scalar', numberOption('dense-scale', 0))
    .option('--one-sided', 'g3: one-sided dense scalar |s|')
    .option('--polygon <m>', 'g5: vertices per polygon (2 = digons)', intOption('polygon', 2, 1e5))
    .option('--solo-a <p>', 'g6: rate of A alone', numberOption('solo-a', 0, 1))
    .option('--solo-b <p>', 'g6: rate of B alone', numberOption('solo-b', 0, 1))
    .option('--joint <p>', 'g6: rate of A and B together', numberOption('joint', 0, 1))
    .option('--distractors <n>', 'g6: independent distractor features', intOption('distractors', 0, 1e5))
    .option('--distractor-rate <p>', 'g6: distractor rate', numberOption('distractor-rate', 0, 1))
    .action(action((kindName: string, opts: SynthCliOptions, cmd: Command) => {
      const g = globals(cmd);
      const kind = parseKind(kindName);
      if (opts.magnitudes !== undefined && opts.magnitudes !== 'constant' && opts.magnitudes !== 'uniform') {
        throw new InputError('--magnitudes', `expected 'constant' or 'uniform', got '${String(opts.magnitudes)}'`);
      }
      if (kind === 'g2' && opts.features !== undefined) warn('--features is ignored for g2: it has parents·(1 + children) features (use --parents and --children)');
      const { out, angle, ...rest } = opts;
      const ds = generate(kind, { ...rest, angleDeg: angle });
      const paths = writeSynthetic(ds, out!);
      const { denseValues: _dv, ...meta } = ds.meta;
      const summary = { kind, rows: ds.n, d_in: ds.d, features: ds.nFeatures, seed: opts.seed ?? 0, codesWritten: !!ds.codes, hierarchy: ds.hierarchy ?? null, meta, files: paths };
      emit(g, summary, () => [
        `${kind}: ${ds.n} rows × d_in ${ds.d}, ${ds.nFeatures} ground-truth features (seed ${summary.seed})`,
        `  activations   ${paths.activations}`,
        `  ground truth  ${paths.groundTruth}${ds.codes ? '' : ' (codes not written: too large)'}`,
        ...Object.entries(meta).map(([k, v]) => `  ${k}: ${typeof v === 'number' ? Number(v.toPrecision(4)) : JSON.stringify(v)}`),
      ].join('\n'));
    }));
}
