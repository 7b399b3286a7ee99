// The CLI run in-process with its output captured: shared by the CLI tests (diagnostics and e2e-theory).
import { main } from '../../../src/cli/main';

/** Runs the CLI in-process and captures its output and exit code. */
export async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const ow = process.stdout.write.bind(process.stdout), ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => { out += String(s); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { err += String(s); return true; }) as typeof process.stderr.write;
  const before = process.exitCode;
  try {
    process.exitCode = undefined;
    const code = await main(args);
    return { code, out, err };
  } finally {
    process.stdout.write = ow; process.stderr.write = ew;
    process.exitCode = before;
  }
}
