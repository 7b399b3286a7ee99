/**
 * Every SAE architecture the workbench knows, in one list. Adding one = one module beside this file
 * (exporting an ArchSpec, ./spec.ts) and one entry here; the forward pass, the formats, the trainer, the
 * diagnostics, the CLI, the training wizard and the settings read this list.
 */
import { batchtopk } from './batchtopk';
import { gated } from './gated';
import { jumprelu } from './jumprelu';
import { relu } from './relu';
import type { ArchSpec, TrainFacts } from './spec';
import { topk } from './topk';

export const ARCHS = [relu, topk, batchtopk, jumprelu, gated] as const;

/** An architecture's name: the union of the registered ones. */
export type ArchName = (typeof ARCHS)[number]['name'];

export const ARCH_NAMES: readonly ArchName[] = ARCHS.map((a) => a.name);

/** The architectures the engine trains, in registry order (the CLI's --arch, the wizard, the settings' enum). */
export const TRAINABLE_ARCHS: readonly ArchName[] = ARCHS.filter((a) => a.train !== undefined).map((a) => a.name);

/** What `train` and the wizard pick when nothing is said. */
export const DEFAULT_ARCH: ArchName = topk.name;

export function isArchName(name: unknown): name is ArchName {
  return typeof name === 'string' && (ARCH_NAMES as readonly string[]).includes(name);
}

export function isTrainable(name: unknown): name is ArchName {
  return typeof name === 'string' && (TRAINABLE_ARCHS as readonly string[]).includes(name);
}

/** The spec of a registered architecture (a programming error, not bad input, when it is not one). */
export function archSpec(name: ArchName): ArchSpec<ArchName> {
  const spec = ARCHS.find((a) => a.name === name);
  if (!spec) throw new Error(`unknown architecture '${String(name)}'`);
  return spec;
}

/** The training facts of a trainable architecture. */
export function trainFacts(name: ArchName): TrainFacts {
  const t = archSpec(name).train;
  if (!t) throw new Error(`architecture '${name}' cannot be trained`);
  return t;
}

/** The architecture a SAELens cfg.json `architecture` names, and whether it is a transcoder form. */
export function fromSaeLens(architecture: string): { spec: ArchSpec<ArchName>; transcoder: boolean } | undefined {
  for (const spec of ARCHS) {
    if (spec.saeLens.reads.includes(architecture)) return { spec, transcoder: false };
    if (spec.saeLens.transcoder?.reads.includes(architecture)) return { spec, transcoder: true };
  }
  return undefined;
}

/** Every SAELens architecture name that loads (for the error that lists them). */
export function saeLensNames(): string[] {
  return ARCHS.flatMap((a) => [...a.saeLens.reads, ...(a.saeLens.transcoder?.reads ?? [])]);
}

/** The architecture with a gate and a separate magnitude path (b_mag, r_mag), when one is registered. */
export function archWithMagnitudePath(): ArchSpec<ArchName> | undefined {
  return ARCHS.find((a) => a.saeLens.latentTensors.some((t) => t.field === 'rMag'));
}
