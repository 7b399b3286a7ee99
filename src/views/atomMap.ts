/**
 * The atom map's view model: one 2-D point per latent (src/views/atomLayout.ts) of one or more SAEs,
 * with the columns the map can colour by — firing density, the diagnostics' flags, antipodal pairs
 * (drawn as lines), annotation tags, the split-tree family across widths, the ground-truth match — all
 * indexed by a global atom index (SAE s's latent i is atom saes[s].offset + i).
 */
import type { AtomMapModel, AtomMapSae, DiagnosticsModel, DictionaryModel, SplitTreeModel } from '../protocol/viewModels';
import { DUPLICATED } from '../protocol/viewModels';

/** The layout cache files' names beside an SAE (./atomMapLayout.ts writes them): `atom_map.<16 hex>.safetensors`. */
export const ATOM_MAP_CACHE = /^atom_map\.[0-9a-f]{16}\.safetensors$/;

/** Atoms whose max decoder cosine to another atom is above this are marked duplicated. */
export const DUPLICATE_COSINE = 0.95;

export interface AtomMapInputs {
  saes: { name: string; dir: string; dictionary: DictionaryModel; diagnostics?: DiagnosticsModel; tags?: Map<number, string[]> }[];
  xy: Float32Array;
  layout: AtomMapModel['layout'];
  tree?: SplitTreeModel;
}

export function atomMapModel(inp: AtomMapInputs): AtomMapModel {
  const saes: AtomMapSae[] = [];
  let count = 0;
  for (const s of inp.saes) { saes.push({ name: s.name, dir: s.dir, width: s.dictionary.latents.count, offset: count }); count += s.dictionary.latents.count; }
  if (inp.xy.length !== count * 2) throw new RangeError(`the layout has ${inp.xy.length / 2} points for ${count} atoms`);
  const density = new Float32Array(count), flags = new Uint16Array(count), groundTruthCos = new Float32Array(count).fill(NaN);
  const labelsAt: number[] = [], labelTexts: string[] = [];
  const tag = new Int16Array(count).fill(-1), tagNames: string[] = [];
  const pa: number[] = [], pb: number[] = [], pd: number[] = [];
  const notes: string[] = [];
  inp.saes.forEach((s, si) => {
    const off = saes[si]!.offset, L = s.dictionary.latents;
    density.set(L.density, off);
    for (let i = 0; i < L.count; i++) flags[off + i] = L.flags[i]! | (L.maxDecoderCosine[i]! > DUPLICATE_COSINE ? DUPLICATED : 0);
    L.labels.latents.forEach((l, j) => { labelsAt.push(off + l); labelTexts.push(L.labels.texts[j]!); });
    const gt = s.dictionary.groundTruth;
    if (gt?.bestCos && gt.bestCos.length === L.count) groundTruthCos.set(gt.bestCos, off);
    const ap = s.diagnostics?.antipodal;
    if (ap) for (let j = 0; j < ap.a.length; j++) { pa.push(off + ap.a[j]!); pb.push(off + ap.b[j]!); pd.push(ap.dense[j]!); }
    for (const [latent, tags] of s.tags ?? []) {
      const t = tags[0];
      if (t === undefined || latent < 0 || latent >= L.count) continue;
      let k = tagNames.indexOf(t);
      if (k < 0) { if (tagNames.length >= 32767) continue; k = tagNames.push(t) - 1; }
      tag[off + latent] = k;
    }
    const mt = s.dictionary.metrics;
    notes.push(mt.tokens > 0 ? `${s.name}: density and flags measured on ${s.dictionary.activationsPath ? `${mt.tokens.toLocaleString('en-US')} rows of ${s.dictionary.activationsPath}` : 'no activations'}` : `${s.name}: weights only (no activations linked): density unknown`);
  });
  return {
    saes, count, xy: inp.xy, density, flags, groundTruthCos, tag, tagNames,
    labels: { latents: Int32Array.from(labelsAt), texts: labelTexts },
    pairs: { a: Int32Array.from(pa), b: Int32Array.from(pb), dense: Uint8Array.from(pd) },
    family: inp.tree ? treeFamilies(inp.tree, saes) : new Int32Array(count).fill(-1),
    notes, layout: inp.layout,
  };
}

/** Connected components of the split tree's edges, as a family id per atom (−1 outside every edge). */
function treeFamilies(tree: SplitTreeModel, saes: AtomMapSae[]): Int32Array {
  const count = saes.reduce((a, s) => a + s.width, 0);
  const parent = Int32Array.from({ length: count }, (_, i) => i);
  const find = (i: number): number => { while (parent[i] !== i) { parent[i] = parent[parent[i]!]!; i = parent[i]!; } return i; };
  // tree SAE index → map SAE index, matched by folder
  const toMap = tree.saes.map((t) => saes.findIndex((s) => s.dir === t.path));
  const atom = (node: number): number => {
    const s = toMap[tree.nodes.sae[node]!] ?? -1;
    return s < 0 ? -1 : saes[s]!.offset + tree.nodes.latent[node]!;
  };
  const inEdge = new Uint8Array(count);
  for (let e = 0; e < tree.edges.from.length; e++) {
    const a = atom(tree.edges.from[e]!), b = atom(tree.edges.to[e]!);
    if (a < 0 || b < 0) continue;
    inEdge[a] = inEdge[b] = 1;
    parent[find(a)] = find(b);
  }
  const ids = new Map<number, number>();
  return Int32Array.from({ length: count }, (_, i) => {
    if (!inEdge[i]) return -1;
    const r = find(i);
    let id = ids.get(r);
    if (id === undefined) { id = ids.size; ids.set(r, id); }
    return id;
  });
}
