/**
 * Names for split-tree nodes: each latent's annotation label, else what it fires on — the firing tokens
 * (or row labels) of its top examples from a finished feature-page pass on the tree's activations.
 * Nodes with neither keep the label they had (usually none: the panel then shows "width-48 #35").
 */
import type { Annotation } from './panelBuilders';
import type { FeaturePassData } from './featurePage';
import { exampleLabel } from './featurePage';
import type { SplitTreeModel } from '../protocol/viewModels';

export interface TreeLabelSources {
  /** Annotations of the SAE in this folder. */
  annotations(saeDir: string): Map<number, Annotation>;
  /** A finished pass of the SAE in this folder over the tree's activations, if there is one. */
  pass(saeDir: string): FeaturePassData | undefined;
}

export function labelTreeNodes(tree: SplitTreeModel, from: TreeLabelSources): void {
  const byDir = new Map<string, { annotations: Map<number, Annotation>; pass?: FeaturePassData }>();
  const sourcesOf = (dir: string): { annotations: Map<number, Annotation>; pass?: FeaturePassData } => {
    let s = byDir.get(dir);
    if (!s) byDir.set(dir, (s = { annotations: from.annotations(dir), pass: from.pass(dir) }));
    return s;
  };
  const { sae, latent, labels } = tree.nodes;
  for (let n = 0; n < sae.length; n++) {
    const dir = tree.saes[sae[n]!]?.path;
    if (!dir) continue;
    const s = sourcesOf(dir);
    const named = s.annotations.get(latent[n]!)?.label;
    const label = named || (s.pass ? exampleLabel(s.pass, latent[n]!) : '');
    if (label) labels[n] = label;
  }
}
