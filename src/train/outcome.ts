/**
 * What a finished run's last figures say about its settings: a run whose latents mostly died, or whose
 * reconstruction explains nothing, trained with the wrong sparsity. The CLI and the editor word the
 * setting each in their own terms (a flag; a wizard field), so the setting is named here by key.
 */
import type { Activation } from '../sae/types';
import { isTrainable, trainFacts } from '../sae/arch/registry';

export type TrainSetting = 'l1' | 'k' | 'resampleEvery' | 'tokens';

export interface RunWarning {
  /** What went wrong, e.g. "62.5% of the latents are dead at the end of the run". */
  problem: string;
  setting: TrainSetting;
  /** What to do with the setting. */
  change: 'lower' | 'raise' | 'set';
}

/** More than this fraction of dead latents at the end of a run earns a warning. */
export const DEAD_WARNING_FRACTION = 0.5;

interface FinalFigures { explainedVariance?: number; deadFraction?: number }

/** Warnings for a run's summary (`final` holds the last batch's EV and dead fraction); [] when it looks sane. */
export function runWarnings(summary: Record<string, unknown>, arch: Activation): RunWarning[] {
  const f = (summary.final ?? {}) as FinalFigures;
  // a penalised architecture is made sparser by its coefficient; the k-sparse ones by k (the registry says which)
  const penalised = isTrainable(arch) && trainFacts(arch).penalty !== 'none';
  const out: RunWarning[] = [];
  if (typeof f.deadFraction === 'number' && f.deadFraction > DEAD_WARNING_FRACTION) {
    const problem = `${(f.deadFraction * 100).toFixed(1)}% of the latents are dead at the end of the run`;
    out.push(penalised ? { problem, setting: 'l1', change: 'lower' } : { problem, setting: 'resampleEvery', change: 'set' });
  }
  if (typeof f.explainedVariance === 'number' && f.explainedVariance <= 0) {
    const problem = `the SAE explains no variance (EV ${f.explainedVariance.toFixed(3)})`;
    out.push(penalised ? { problem, setting: 'l1', change: 'lower' } : { problem, setting: 'k', change: 'raise' });
  }
  return out;
}

/** "lower --l1" / "raise k": the advice in a caller's words for the setting. */
export function adviceText(w: RunWarning, name: (s: TrainSetting) => string): string {
  return `${w.problem}: ${w.change === 'set' ? 'set' : w.change} ${name(w.setting)}`;
}
