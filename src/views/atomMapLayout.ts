/**
 * The atom map's layout for one or more SAEs, cached beside the first SAE by content hash: the file
 * `atom_map.<hash>.safetensors` holds `xy` [atoms, 2] and the layout's parameters; the hash covers every
 * SAE's decoder and the parameters, so a retrained SAE or another seed never reads a stale map.
 */
import type { CachedLayout } from '../protocol/viewModels';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSae } from '../formats';
import { InputError } from '../errors';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { toFloat32 } from '../io/tensor';
import type { Sae } from '../sae/types';
import { layoutAtoms } from './atomLayout';
import type { AtomLayoutOptions } from './atomLayout';

/** Bumped when the layout algorithm changes, so older cache files are not reused. */
const LAYOUT_VERSION = 1;

export function atomMapLayout(saeDirs: string[], opts: AtomLayoutOptions = {}): CachedLayout {
  if (saeDirs.length === 0) throw new InputError('atom map', 'no SAE given');
  return atomMapLayoutOf(saeDirs.map((dir) => ({ dir, sae: loadSae(dir) })), opts);
}

/** The same, for SAEs the caller has loaded already (the report holds them); the cache sits beside the first. */
export function atomMapLayoutOf(saes: { dir: string; sae: Sae }[], opts: AtomLayoutOptions = {}): CachedLayout {
  const d = saes[0]!.sae.cfg.dOut;
  for (const { dir, sae } of saes) if (sae.cfg.dOut !== d) throw new InputError(dir, `decoder width ${sae.cfg.dOut} differs from ${saes[0]!.dir}'s ${d}: atoms of different spaces cannot share a map`);
  const m = saes.reduce((a, { sae }) => a + sae.cfg.dSae, 0);
  const seed = opts.seed ?? 0;
  const h = createHash('sha256').update(JSON.stringify({ v: LAYOUT_VERSION, seed, neighbors: opts.neighbors ?? null, epochs: opts.epochs ?? null, dims: opts.reducedDims ?? null }));
  for (const { sae } of saes) h.update(new Uint8Array(sae.wDec.buffer, sae.wDec.byteOffset, sae.wDec.byteLength));
  const hash = h.digest('hex').slice(0, 16);
  const file = join(saes[0]!.dir, `atom_map.${hash}.safetensors`);
  // (./atomMap.ts ATOM_MAP_CACHE names these files, so that the workspace never offers them as activations)
  if (existsSync(file)) {
    try {
      const f = readSafetensors(file);
      const xy = f.tensors.get('xy');
      if (xy && xy.shape.length === 2 && xy.shape[0] === m && xy.shape[1] === 2 && f.metadata.hash === hash) {
        return { xy: Float32Array.from(toFloat32(xy)), seed, neighbors: Number(f.metadata.neighbors), epochs: Number(f.metadata.epochs), cached: true, file };
      }
    } catch { /* an unreadable cache is recomputed and overwritten */ }
  }
  const w = new Float32Array(m * d);
  let off = 0;
  for (const { sae } of saes) { w.set(sae.wDec.subarray(0, sae.cfg.dSae * d), off * d); off += sae.cfg.dSae; }
  const layout = layoutAtoms(w, m, d, opts);
  try {
    writeSafetensors(file, { xy: { dtype: 'F32', shape: [m, 2], data: layout.xy } },
      { hash, seed: String(seed), neighbors: String(layout.neighbors), epochs: String(layout.epochs), version: String(LAYOUT_VERSION) });
  } catch { /* a read-only SAE folder: the map is still shown, only not cached */ }
  return { xy: layout.xy, seed, neighbors: layout.neighbors, epochs: layout.epochs, cached: false, file };
}
