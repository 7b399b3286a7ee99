"""Activation rows from disk, memory-mapped: .npy, .safetensors (one 2-D tensor or a named one) and capture
folders (manifest.json + shards, one tensor per site). Nothing is loaded whole: rows are gathered from the
memory maps a batch at a time.

Order: the files are cut into chunks of whole rows (4 MB of raw rows each); every epoch permutes the
chunks, a window is as many chunks as the memory budget holds, and the rows inside a window are permuted;
both permutations derive from (seed, epoch, window), so a position (epoch, window, offset) names the same
rows on every run, which is what makes resume exact. Several row-aligned streams (a transcoder's input and
target, a crosscoder's sources) share one order, so they stay aligned.

DDP: every rank walks the same order and gathers only its own slice of each global batch (rank r: rows
r*B .. (r+1)*B - 1 of the world*B rows), so the ranks together see what one process sees with the whole
batch.
"""
import json
import os

import numpy as np

from sae_workbench_common.safetensors_io import bf16_to_float32, open_rows, read_header

FLOAT_DTYPES = {"F32", "F16", "BF16", "F64"}
CHUNK_BYTES = 4 * 2**20


class DataError(Exception):
    """Bad input data: the message names the file and the problem."""


def _npy(path):
    try:
        arr = np.load(path, mmap_mode="r")
    except Exception as e:  # noqa: BLE001 - any parse failure is the file's problem
        raise DataError(f"{path}: not a readable .npy file ({e})") from None
    if arr.dtype not in (np.float32, np.float16, np.float64):
        raise DataError(f"{path}: activations must be float (f32, f16, f64), got {arr.dtype}")
    return arr, False


def _safetensors(path, name):
    try:
        header, _ = read_header(path)
    except (ValueError, OSError) as e:
        raise DataError(str(e) if str(path) in str(e) else f"{path}: {e}") from None
    two_d = [k for k, e in header.items() if k != "__metadata__" and len(e["shape"]) == 2]
    if name is None:
        if len(two_d) != 1:
            raise DataError(f"{path}: expected one 2-D tensor, found {len(two_d)} ({', '.join(two_d) or 'none'}); name one with --tensor")
        name = two_d[0]
    if name not in header or name == "__metadata__":
        raise DataError(f"{path}: no tensor named '{name}' (has: {', '.join(k for k in header if k != '__metadata__')})")
    if header[name]["dtype"] not in FLOAT_DTYPES:
        raise DataError(f"{path}: activations must be float (F32, F16, BF16, F64), got {header[name]['dtype']}")
    try:
        arr = open_rows(path, name)
    except (ValueError, KeyError) as e:
        raise DataError(str(e)) from None
    return arr, header[name]["dtype"] == "BF16"


def _capture(folder, site):
    path = os.path.join(folder, "manifest.json")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: cannot read the capture manifest ({e})") from None
    if manifest.get("format") != "sae-workbench-activations":
        raise DataError(f"{path}: not a capture manifest (format {manifest.get('format')!r})")
    sites = [s["name"] for s in manifest.get("sites", [])]
    if site is None:
        if len(sites) != 1:
            raise DataError(f"{path}: the capture holds {len(sites)} sites ({', '.join(sites)}); name one as <folder>#<site> or with --tensor")
        site = sites[0]
    if site not in sites:
        raise DataError(f"{path}: no site '{site}' (has: {', '.join(sites)})")
    parts = []
    for shard in manifest.get("shards", []):
        parts.append(_safetensors(os.path.join(folder, shard["file"]), site))
    if not parts:
        raise DataError(f"{path}: the capture has no shards yet")
    model = manifest.get("model")
    facts = {"model_name": model.get("name") if isinstance(model, dict) else model, "hook_name": site,
             "dataset_path": os.path.abspath(folder)}
    if isinstance(manifest.get("context_length"), int):
        facts["context_size"] = manifest["context_length"]
    return parts, facts


def open_stream(spec, tensor=None):
    """[(memmap, is_bf16)] and facts ({"model_name", "hook_name"} for captures) of one stream: a file or a
    capture folder."""
    # a capture as its folder, its manifest.json, or <folder>#<site> (src/io/shards.ts reads the same forms)
    folder, _, site = spec.rpartition("#")
    if folder and os.path.isdir(folder):
        return _capture(folder, site or tensor)
    if os.path.basename(spec) == "manifest.json" and os.path.isfile(spec):
        return _capture(os.path.dirname(spec) or ".", tensor)
    if not os.path.exists(spec):
        raise DataError(f"{spec}: no such file or folder")
    if os.path.isdir(spec):
        return _capture(spec, tensor)
    ext = os.path.splitext(spec)[1].lower()
    if ext == ".npy":
        return [_npy(spec)], {}
    if ext == ".safetensors":
        return [_safetensors(spec, tensor)], {}
    raise DataError(f"{spec}: unsupported activation file type '{ext or '(none)'}' (expected .npy, .safetensors or a capture folder)")


class Stream:
    """One stream of rows spread over several arrays (a capture's shards)."""

    def __init__(self, name, parts):
        self.name = name
        self.parts = parts
        self.d = parts[0][0].shape[1]
        for arr, _ in parts:
            if arr.ndim != 2:
                raise DataError(f"{name}: activations must be 2-D [tokens, d], got shape {list(arr.shape)}")
            if arr.shape[1] != self.d:
                raise DataError(f"{name}: shards differ in width ({arr.shape[1]} vs {self.d})")
        self.starts = np.cumsum([0] + [a.shape[0] for a, _ in parts])
        self.rows = int(self.starts[-1])
        if self.rows == 0 or self.d == 0:
            raise DataError(f"{name}: activations are empty")
        self.row_bytes = max(a.dtype.itemsize for a, _ in parts) * self.d

    def gather(self, idx):
        """float32 rows [len(idx), d] for global row indices (read in ascending order, returned as asked)."""
        out = np.empty((len(idx), self.d), dtype=np.float32)
        order = np.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        which = np.searchsorted(self.starts, sorted_idx, side="right") - 1
        for p in np.unique(which):
            sel = which == p
            arr, bf16 = self.parts[p]
            rows = np.asarray(arr[sorted_idx[sel] - self.starts[p]])
            out[order[sel]] = bf16_to_float32(rows) if bf16 else rows.astype(np.float32, copy=False)
        return out


class RowFeed:
    """Row-aligned streams (one for SAEs; input + target for transcoders; L sources for crosscoders) read in
    one shuffled order, a batch at a time."""

    def __init__(self, streams, seed=0, memory_budget=256 * 2**20, loop=True, on_non_finite="skip", rank=0, world=1):
        self.streams = streams
        rows = {s.rows for s in streams}
        if len(rows) != 1:
            raise DataError(f"{streams[1].name}: {streams[1].rows} rows, but {streams[0].name} has {streams[0].rows}; row-aligned files must have the same rows")
        self.total_rows = streams[0].rows
        self.seed, self.loop, self.on_non_finite, self.rank, self.world = seed, loop, on_non_finite, rank, world
        row_bytes = max(s.row_bytes for s in streams)
        self.chunk_rows = max(1, CHUNK_BYTES // row_bytes)
        f32_chunk = self.chunk_rows * sum(s.d for s in streams) * 4
        self.n_chunks = -(-self.total_rows // self.chunk_rows)
        self.chunks_per_window = max(1, min(self.n_chunks, memory_budget // max(f32_chunk, 1)))
        self.state = {"epoch": 0, "window": 0, "offset": 0, "skipped": 0}
        self._window_key = None
        self._order = None

    @property
    def windows(self):
        return -(-self.n_chunks // self.chunks_per_window)

    def _window_rows(self, epoch, window):
        key = (epoch, window)
        if self._window_key != key:
            chunk_perm = np.random.default_rng([self.seed, epoch]).permutation(self.n_chunks)
            chunks = chunk_perm[window * self.chunks_per_window:(window + 1) * self.chunks_per_window]
            rows = np.concatenate([np.arange(c * self.chunk_rows, min((c + 1) * self.chunk_rows, self.total_rows)) for c in chunks])
            self._order = rows[np.random.default_rng([self.seed, epoch, window, 1]).permutation(len(rows))]
            self._window_key = key
        return self._order

    def _indices(self, n):
        """The next n global row indices (advancing windows and epochs), or fewer when the data ends without loop."""
        out = []
        got = 0
        st = self.state
        while got < n:
            order = self._window_rows(st["epoch"], st["window"])
            if st["offset"] >= len(order):
                st["offset"] = 0
                st["window"] += 1
                if st["window"] >= self.windows:
                    if not self.loop:
                        st["window"] -= 1
                        st["offset"] = len(order)
                        break
                    st["window"] = 0
                    st["epoch"] += 1
                continue
            take = min(n - got, len(order) - st["offset"])
            out.append(order[st["offset"]:st["offset"] + take])
            st["offset"] += take
            got += take
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def next(self, n_local):
        """This rank's rows of the next global batch: a list of float32 arrays [n, d_s], one per stream."""
        batches = [np.zeros((0, s.d), dtype=np.float32) for s in self.streams]
        while batches[0].shape[0] < n_local:
            need = n_local - batches[0].shape[0]
            idx = self._indices(need * self.world)
            if len(idx) == 0:
                break
            mine = idx[self.rank * need:(self.rank + 1) * need] if self.world > 1 else idx
            rows = [s.gather(mine) for s in self.streams]
            finite = np.ones(len(mine), dtype=bool)
            for r in rows:
                finite &= np.isfinite(r).all(axis=1)
            if not finite.all():
                bad = int(mine[~finite][0])
                if self.on_non_finite == "stop" or self.world > 1:
                    raise DataError(f"{self.streams[0].name}: row {bad} holds NaN or Inf (--non-finite stop; under torchrun rows cannot be skipped on one rank only)")
                self.state["skipped"] += int((~finite).sum())
                rows = [r[finite] for r in rows]
            batches = [np.concatenate([b, r]) for b, r in zip(batches, rows)]
        return batches


def open_feed(specs, tensor=None, **kw):
    """A RowFeed over files or capture folders (one per stream), and the facts a capture records."""
    streams, facts = [], {}
    for spec in specs:
        parts, f = open_stream(spec, tensor)
        streams.append(Stream(spec, parts))
        facts = facts or f
    return RowFeed(streams, **kw), facts
