/**
 * Errors caused by input from outside (files, settings, webview messages) are InputErrors: they carry the
 * file (or source) and a one-line problem, and the CLI prints them as `sae-workbench: FILE: problem` with
 * exit code 2 and no stack trace. Anything else escaping is a bug in the tool.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    /** The file, folder or setting the problem is in; '' when there is none. */
    readonly source: string,
    /** One line, no trailing period needed. */
    readonly problem: string,
  ) {
    super(source ? `${source}: ${problem}` : problem);
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
