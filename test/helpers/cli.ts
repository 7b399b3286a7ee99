// The CLI as tests drive it: in-process with its output captured (fast), or in a child process as a user
// runs it (exit code, stderr, stack traces). Shared by every CLI test.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../src/cli/main';

const root = join(__dirname, '..', '..');

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

/** Runs the CLI from source in a child process, as a user runs the built one. */
export function spawnCli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, SAE_WORKBENCH_CLI_MAIN: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
