/** Reading byte ranges of large files in bounded chunks, so statistics over huge tensors stay in a fixed memory budget. */
import { closeSync, readSync } from 'node:fs';
import { openRegular } from './regular';
import { InputError } from '../errors';
import { DTYPE_BYTES } from './dtype';
import type { DType } from './dtype';
import { viewAs } from './tensor';
import type { Tensor } from './tensor';

export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

/** Calls `fn` with consecutive tensors (1-D views) covering bytes [begin, end) of the file, each at most chunkBytes. */
export function forEachChunk(path: string, dtype: DType, begin: number, end: number, fn: (chunk: Tensor) => void, chunkBytes = DEFAULT_CHUNK_BYTES): void {
  const size = DTYPE_BYTES[dtype];
  const step = Math.max(size, Math.floor(chunkBytes / size) * size);
  const fd = openRegular(path);
  try {
    const buf = new Uint8Array(Math.min(step, Math.max(end - begin, size)));
    for (let pos = begin; pos < end; pos += step) {
      const len = Math.min(step, end - pos);
      let got = 0;
      while (got < len) {
        const r = readSync(fd, buf, got, len - got, pos + got);
        if (r === 0) throw new InputError(path, `unexpected end of file at byte ${pos + got}`);
        got += r;
      }
      const view = buf.subarray(0, len);
      fn({ dtype, shape: [len / size], data: viewAs(dtype, view) });
    }
  } finally {
    closeSync(fd);
  }
}
