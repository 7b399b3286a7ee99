/**
 * Errors caused by input from outside (files, settings, webview messages) are InputErrors: they carry the
 * file (or source) and a one-line problem, and the CLI prints them as `sae-workbench: FILE: problem` with
 * exit code 2 and no stack trace. Anything else escaping is a bug in the tool.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  /** The file, folder or setting the problem is in; '' when there is none. */
  readonly source: string;
  /** One line, no trailing period needed. */
  readonly problem: string;
  constructor(source: string, problem: string) {
    // Text quoted from a hostile file may hold newlines or control bytes: escaped, the message stays one line.
    const clean = (t: string): string => Array.from(t, (c) => {
      const code = c.charCodeAt(0);
      return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
    }).join('');
    super(source ? `${clean(source)}: ${clean(problem)}` : clean(problem));
    this.source = source;
    this.problem = clean(problem);
  }
}

/** Thrown when a long operation is cancelled by the user; not an error to report. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor() {
    super('cancelled');
  }
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof Error && e.name === 'InputError';
}

/** Formats any thrown value as one line for a user (InputErrors verbatim, other errors by message). */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}
