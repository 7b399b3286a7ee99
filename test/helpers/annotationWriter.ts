// A child process that edits one annotations file while others do (test/unit/annotations/concurrent.test.ts).
// `writer`: an AnnotationStore (the CLI's or another window's) setting one field of a sequence of latents,
// then, once the editor has finished, one sync — what the extension's file watcher does after an
// external save. `editor`: a text editor that knows nothing of our lock: it loads the file, adds a tag by
// hand (no timestamp bump), and saves by writing a temporary file and renaming it over (safe-write).
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AnnotationStore } from '../../src/annotations/store';

const [role, dir, seedText, field, latentsText] = process.argv.slice(2) as [string, string, string, string, string];
const latents = latentsText.split(',').map(Number);
let seed = Number(seedText) >>> 0 || 1;
function random(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
const pause = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void { if (ms > 0) Atomics.wait(pause, 0, 0, ms); }
const path = join(dir, 'annotations.json');
const editorDone = join(dir, 'editor.done');

if (role === 'writer') {
  const store = new AnnotationStore(dir, { dSae: 4096 });
  latents.forEach((latent, i) => {
    store.update(latent, { [field]: `${field}-${i}` });
    sleep(random() * 5);
  });
  while (!existsSync(editorDone)) sleep(5);
  store.sync();
} else {
  latents.forEach((latent, i) => {
    for (;;) {
      let text: string;
      try { text = readFileSync(path, 'utf8'); } catch { sleep(1); continue; } // moved aside for a moment
      const doc = JSON.parse(text) as { annotations: { index: number; tags?: string[] }[] };
      let entry = doc.annotations.find((a) => a.index === latent);
      if (!entry) doc.annotations.push((entry = { index: latent, tags: [] }));
      entry.tags = [...(entry.tags ?? []), `ed-${i}`];
      const tmp = `${path}.editor-tmp`;
      writeFileSync(tmp, JSON.stringify(doc, null, 2));
      renameSync(tmp, path);
      break;
    }
    sleep(random() * 8);
  });
  writeFileSync(editorDone, '');
}
