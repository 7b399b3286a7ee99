/**
 * Finds string literals naming a hook point (e.g. "blocks.8.hook_resid_pre") in source text. Plain
 * TypeScript, no vscode: the CodeLens and hover providers call it and the unit tests check it.
 */
export interface HookStringMatch {
  hookName: string;
  /** Offsets of the string's content (without quotes) in the text. */
  start: number;
  end: number;
}

/**
 * Scans string literals left to right, so quote pairing is right: Python's triple-quoted strings
 * (docstrings) are skipped whole, escapes are honoured, a string ends at its closing quote or the line's end.
 */
export function findHookStrings(text: string, known: ReadonlySet<string>): HookStringMatch[] {
  if (known.size === 0) return [];
  const out: HookStringMatch[] = [];
  let i = 0;
  while (i < text.length) {
    const q = text[i];
    if (q !== '"' && q !== "'" && q !== '`') { i++; continue; }
    if (text.startsWith(q.repeat(3), i)) {
      const close = text.indexOf(q.repeat(3), i + 3);
      i = close < 0 ? text.length : close + 3;
      continue;
    }
    let j = i + 1;
    let escaped = false;
    while (j < text.length && text[j] !== '\n' && (escaped || text[j] !== q)) {
      escaped = !escaped && text[j] === '\\';
      j++;
    }
    if (text[j] === q) {
      const content = text.slice(i + 1, j);
      if (known.has(content)) out.push({ hookName: content, start: i + 1, end: j });
      i = j + 1;
    } else {
      i = j; // unterminated on this line
    }
  }
  return out;
}
