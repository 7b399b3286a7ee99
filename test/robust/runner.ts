// The mutant runner, one child process per format (test/robust/mutants.test.ts starts it): builds a
// valid file of its format, then COUNT seeded mutants of it, loading each with the format's reader.
// Prints `case N` before each (so the parent can name a case that hangs) and, at the end, one JSON line:
// how many loaded, how many were refused with an InputError, every other error (a bug), and the peak RSS.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInputError } from '../../src/errors';
import { readSafetensors } from '../../src/io/safetensors';
import { readNpy, readNpz, writeNpy } from '../../src/io/npy';
import { readTorchFile } from '../../src/io/torch';
import { loadSaeLens, saveSaeLens } from '../../src/formats/saelens';
import { parseAnnotations } from '../../src/annotations/validate';
import { AnnotationStore } from '../../src/annotations/store';
import { writeTorchStateDict } from '../fixtures/torchWriter';
import { constantSae } from '../helpers/sae';
import { npzBytes } from '../helpers/hostile';
import { seededRandom } from '../../src/util/random';

const [format, seedText, countText] = process.argv.slice(2) as [string, string, string];
/** mulberry32: a small PRNG whose consecutive draws are independent enough to aim mutations. */
const rand = seededRandom(Number(seedText) >>> 0 || 1);

/** A mutated copy: truncation, random bytes, a run of 0xff/0x00, an inserted or deleted span, or (JSON) a swapped value. */
function mutate(bytes: Uint8Array, isJson: boolean): Uint8Array {
  const n = bytes.length;
  const at = (): number => {
    const r = rand();
    // structure lives at the ends: headers and pickles near the start, the zip directory at the end
    return r < 0.45 ? Math.floor(rand() * Math.min(n, 600)) : r < 0.75 ? Math.max(0, n - 1 - Math.floor(rand() * Math.min(n, 300))) : Math.floor(rand() * n);
  };
  const out = bytes.slice();
  // JSON: mostly a swapped value (byte damage rarely gets past the parser, values reach the validation)
  switch (isJson && rand() < 0.7 ? 5 : Math.floor(rand() * 5)) {
    case 0: return bytes.slice(0, Math.floor(rand() * n));
    case 1: for (let i = 0, m = 1 + Math.floor(rand() * 4); i < m; i++) out[at()] = Math.floor(rand() * 256); return out;
    case 2: { const p = at(); const fill = [0xff, 0x00, 0x7f][Math.floor(rand() * 3)]!; for (let i = 0; i < 8 && p + i < n; i++) out[p + i] = fill; return out; }
    case 3: { const p = at(); const len = 1 + Math.floor(rand() * 16); return Buffer.concat([bytes.subarray(0, p), Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256))), bytes.subarray(p)]); }
    case 4: { const p = at(); return Buffer.concat([bytes.subarray(0, p), bytes.subarray(Math.min(n, p + 1 + Math.floor(rand() * 16)))]); }
    default: {
      const text = Buffer.from(bytes).toString('utf8');
      const nums = [...text.matchAll(/(?<=: )(-?\d+(\.\d+)?(e\d+)?|true|false|null|"[^"]*")/g)];
      if (!nums.length) return out;
      const m = nums[Math.floor(rand() * nums.length)]!;
      const repl = ['0', '-1', '1.5', '-2147483648', '1.1e12', '"x"', 'null', '[]', '{}', '99999999999999999999', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'][Math.floor(rand() * 11)]!;
      return Buffer.from(text.slice(0, m.index) + repl + text.slice(m.index! + m[0].length));
    }
  }
}

const work = mkdtempSync(join(tmpdir(), `sae-robust-${format}-`));
const values = Float32Array.from({ length: 96 }, (_, i) => Math.sin(i));
let base: Uint8Array;
let target: string;
let load: () => void;
const isJson = format === 'cfg' || format === 'annotations';
const sae = join(work, 'sae');
switch (format) {
  case 'safetensors':
    saveSaeLens(constantSae('relu', 4, 8, 0.5, true), sae);
    base = new Uint8Array(readFileSync(join(sae, 'sae_weights.safetensors'))); // a copy: Buffer.slice would share it
    target = join(work, 'm.safetensors');
    load = () => { readSafetensors(target); };
    break;
  case 'npy':
    writeNpy(join(work, 'base.npy'), { dtype: 'F32', shape: [8, 12], data: values });
    base = new Uint8Array(readFileSync(join(work, 'base.npy'))); // a copy: Buffer.slice would share it
    target = join(work, 'm.npy');
    load = () => { readNpy(target); };
    break;
  case 'npz':
    base = npzBytes(values, rand() < 0.5 ? 0 : 6);
    target = join(work, 'm.npz');
    load = () => { readNpz(target); };
    break;
  case 'pt':
    writeTorchStateDict(join(work, 'base.pt'), [['W_enc', { dtype: 'F32', shape: [8, 12], data: values }], ['b_dec', { dtype: 'F32', shape: [12], data: values.slice(0, 12) }]]);
    base = new Uint8Array(readFileSync(join(work, 'base.pt'))); // a copy: Buffer.slice would share it
    target = join(work, 'm.pt');
    load = () => { readTorchFile(target); };
    break;
  case 'cfg':
    saveSaeLens(constantSae('topk', 4, 8, 0.5, true), sae);
    base = new Uint8Array(readFileSync(join(sae, 'cfg.json'))); // a copy: Buffer.slice would share it
    target = join(sae, 'cfg.json');
    load = () => { loadSaeLens(sae); };
    break;
  case 'annotations': {
    mkdirSync(sae, { recursive: true });
    const store = new AnnotationStore(sae, { dSae: 8 });
    store.update(1, { label: 'one', tags: ['a'] });
    store.update(2, { label: 'two' });
    store.remove(2);
    base = new Uint8Array(readFileSync(store.path)); // a copy: Buffer.slice would share it
    target = store.path;
    // A fresh store reads it (parse, validate, merge) and writes one update: refused or saved, never a crash.
    load = () => { parseAnnotations(readFileSync(target, 'utf8'), target, 8); new AnnotationStore(sae, { dSae: 8 }).update(3, { label: 'three' }); };
    break;
  }
  default: throw new Error(`unknown format ${format}`);
}

const result = { format, cases: 0, loaded: 0, refused: 0, bugs: [] as string[], maxRssMB: 0 };
const count = Number(countText);
for (let i = 0; i < count; i++) {
  const m = mutate(base, isJson);
  writeFileSync(target, m);
  process.stdout.write(`case ${i}\n`);
  try {
    load();
    result.loaded++;
  } catch (e) {
    if (isInputError(e) && !e.message.includes("\n")) { result.refused++; if (process.env.ROBUST_DEBUG) process.stderr.write(`${e.message}\n`); }
    else if (result.bugs.length < 10) result.bugs.push(`case ${i}: ${(e as Error).name}: ${(e as Error).message.slice(0, 200)}`);
    else result.bugs.push('…');
  }
  result.cases++;
}
result.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
rmSync(work, { recursive: true, force: true });
process.stdout.write(`result ${JSON.stringify(result)}\n`);
