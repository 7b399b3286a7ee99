// Builds the WebAssembly SIMD kernels from src/compute/assembly/gemm.ts with the AssemblyScript compiler
// (a devDependency, so `npm run build` needs nothing else) into dist/kernels/gemm.wasm. The memory is
// imported and shared (every worker instantiates the module over the training arena), up to 4 GiB.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('../..', import.meta.url).pathname;
const src = join(root, 'src/compute/assembly/gemm.ts');
const out = join(root, 'dist/kernels/gemm.wasm');
if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs && !process.argv.includes('--force')) process.exit(0);
mkdirSync(join(root, 'dist/kernels'), { recursive: true });
const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
const r = spawnSync(process.execPath, [asc, src, '-o', out, '-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd', '--enable', 'threads',
  '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536', '--use', 'abort='], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.error('building the WebAssembly kernels failed (the engine will fall back to plain JS)');
  process.exit(r.status ?? 1);
}
console.log(`built ${out}`);
