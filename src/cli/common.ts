/**
 * What every subcommand shares: global options (--json, --verbose), printing one JSON document or human
 * text, and turning errors into one line + exit code 2 (input errors) or 1 (bugs).
 */
import type { Command } from 'commander';
import { CancelledError, InputError, isInputError, oneLine } from '../errors';

export interface GlobalOptions {
  json: boolean;
  verbose: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { json?: boolean; verbose?: boolean };
  return { json: !!o.json, verbose: !!o.verbose };
}

/** Prints the result: one JSON document with --json, else the human text. */
export function emit(g: GlobalOptions, json: unknown, human: () => string): void {
  if (g.json) process.stdout.write(JSON.stringify(json, jsonReplacer, 2) + '\n');
  else process.stdout.write(human() + '\n');
}

/** JSON has no NaN/Infinity: write them as null (the caller puts a reason field beside). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value === 'bigint') return Number(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** Warnings go to stderr so that --json output stays one clean document. */
export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** Wraps a subcommand's action: errors become one line on stderr and an exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const verbose = !!(cmd.optsWithGlobals() as { verbose?: boolean }).verbose;
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof CancelledError) {
        process.stderr.write('sae-workbench: cancelled\n');
        process.exitCode = 130;
        return;
      }
      if (isInputError(e)) {
        process.stderr.write(`sae-workbench: ${oneLine(e)}\n`);
        if (verbose) process.stderr.write(`${(e as Error).stack}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`sae-workbench: internal error: ${oneLine(e)}\n`);
      if (verbose) process.stderr.write(`${(e as Error).stack}\n`);
      else process.stderr.write('(run again with --verbose for the stack trace)\n');
      process.exitCode = 1;
    }
  };
}

/** Parses a positive integer option, with an InputError naming the option. */
export function intOption(name: string, min = 1, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InputError(`--${name}`, `expected an integer in [${min}, ${max}], got '${v}'`);
    return n;
  };
}

/** Parses a finite number option. */
export function numberOption(name: string, min = -Infinity, max = Infinity): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new InputError(`--${name}`, `expected a number in [${min}, ${max}], got '${v}'`);
    return n;
  };
}

export { InputError };
