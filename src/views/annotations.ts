/**
 * The annotations the panels and the report show, read from the SAE's annotation file (the one store in
 * src/annotations; the extension writes it). A malformed file shows no labels rather than failing a
 * panel: the extension reports the problem where the file is edited.
 */
import { AnnotationStore } from '../annotations/store';
import type { Annotation } from './panelBuilders';

export function readAnnotations(saeDir: string): Map<number, Annotation> {
  const out = new Map<number, Annotation>();
  const store = new AnnotationStore(saeDir);
  try {
    store.sync();
  } catch {
    return out;
  }
  for (const a of store.list()) if (a.label || a.description) out.set(a.index, { label: a.label, note: a.description });
  return out;
}
