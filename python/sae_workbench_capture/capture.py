"""The capture loop: documents -> contexts -> batches -> forward with hooks -> kept rows -> shards.

The forward pass is the only work on the calling thread: the next batches are tokenised and laid out on a
read-ahead thread, and shards are joined, written and listed in the manifest on a writer thread, in order
(each a bounded queue of 2, so memory stays at a few batches plus two shards).
"""
import os
import time

import torch

from sae_workbench_common.background import ReadAhead, SerialWorker
from sae_workbench_common.progress import emit
from sae_workbench_common.safetensors_io import save_file

from .models import DTYPES, SiteRecorder, SpecError
from .output import CaptureFolder, ShardBuffer

RESERVED = ("token_ids", "doc", "pos")


def contexts(documents, tokenizer, context_length, bos_id):
    """(doc index, position in the document of the first token, token ids) for each context, in order.
    A long document is cut into consecutive contexts; each starts with BOS when bos_id is not None."""
    room = context_length - (1 if bos_id is not None else 0)
    for doc_index, text in enumerate(documents):
        ids = tokenizer.encode(text)
        for start in range(0, len(ids), room):
            yield doc_index, start, ids[start:start + room]


def _batches(iterator, size):
    batch = []
    for item in iterator:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class BatchLayout:
    """Padded ids of a batch and, for the rows to keep, their flat index, token id, doc and pos."""

    def __init__(self, batch, bos_id, keep_bos, skip_positions, pad_id):
        offset = 1 if bos_id is not None else 0
        T = max(len(ids) for _, _, ids in batch) + offset
        rows_ids, flat, tok, doc, pos = [], [], [], [], []
        for b, (doc_index, start, ids) in enumerate(batch):
            seq = ([bos_id] if bos_id is not None else []) + ids
            rows_ids.append(seq + [pad_id] * (T - len(seq)))
            if bos_id is not None and keep_bos:
                flat.append(b * T)
                tok.append(bos_id)
                doc.append(doc_index)
                pos.append(-1)
            for j in range(skip_positions, len(ids)):
                flat.append(b * T + offset + j)
                tok.append(ids[j])
                doc.append(doc_index)
                pos.append(start + j)
        self.ids = torch.tensor(rows_ids, dtype=torch.long)
        self.mask = torch.tensor([[1] * (len(ids) + offset) + [0] * (T - len(ids) - offset) for _, _, ids in batch], dtype=torch.long)
        self.flat = torch.tensor(flat, dtype=torch.long)
        self.token_ids = torch.tensor(tok, dtype=torch.int32)
        self.doc = torch.tensor(doc, dtype=torch.int64)
        self.pos = torch.tensor(pos, dtype=torch.int32)


def run_capture(loaded, sites, corpus, opts):
    """opts: out, context_length, batch_size, dtype, device, bos ('auto'|'prepend'|'none'), keep_bos,
    skip_positions, max_rows, shard_rows, overwrite, save_w_u."""
    for site in sites:
        if site.name in RESERVED:
            raise SpecError(f"site '{site.name}': the name is reserved for the row index tensors")
    tok = loaded.tokenizer
    bos_id = None
    if opts.bos in ("auto", "prepend"):
        bos_id = tok.bos_token_id
        if bos_id is None and opts.bos == "prepend":
            raise SpecError("--bos prepend: the tokenizer has no BOS token")
    if opts.context_length < 2:
        raise SpecError(f"--context-length {opts.context_length}: must be at least 2")
    storage = DTYPES[opts.dtype]
    identity = {"model": loaded.name, "model_kind": loaded.kind, "sites": [s.name for s in sites],
                "context_length": opts.context_length, "dtype": opts.dtype, "corpus": corpus.path,
                "text_field": corpus.text_field, "txt_split": corpus.txt_split, "split": corpus.split,
                "config": corpus.config, "bos": bos_id, "keep_bos": bool(opts.keep_bos),
                "skip_positions": opts.skip_positions, "tokenizer": tok.kind, "max_rows": opts.max_rows}
    folder = CaptureFolder(opts.out, identity, overwrite=opts.overwrite)
    if folder.complete:
        emit("done", rows=folder.rows, shards=len(folder.shards), out=opts.out, already_complete=True)
        return folder
    tokenizer_file = tok.save(opts.out)
    w_u_file = None
    if opts.save_w_u:
        w_u = loaded.unembedding()
        if w_u is not None:
            w_u_file = "W_U.safetensors"
            if not os.path.exists(os.path.join(opts.out, w_u_file)):
                save_file({"W_U": w_u.to(storage).cpu()}, os.path.join(opts.out, w_u_file),
                          metadata={"orientation": "d_model x d_vocab"})
    emit("start", out=opts.out, sites=[s.name for s in sites], resumed_rows=folder.rows, resumed_contexts=folder.contexts,
         device=str(opts.device), model=loaded.name)

    recorder = SiteRecorder(sites, early_stop=opts.early_stop)
    site_names = [s.name for s in sites]
    buffer = ShardBuffer(site_names)
    dims = {}
    if folder.manifest:
        dims = {s["name"]: s["d"] for s in folder.manifest.get("sites", [])}
    shard_rows = opts.shard_rows
    rows_done = folder.rows
    contexts_done = folder.contexts
    last_doc = folder.documents
    started = time.monotonic()
    rows_this_run = 0
    last_emit = 0.0

    def facts(complete):
        return {"model": loaded.facts(), "sites": [{"name": n, "d": dims.get(n)} for n in site_names],
                "dtype": opts.dtype, "context_length": opts.context_length,
                "bos": {"id": bos_id, "kept": bool(opts.keep_bos and bos_id is not None)},
                "skip_positions": opts.skip_positions, "tokenizer": tokenizer_file, "W_U": w_u_file,
                "d_vocab": getattr(tok, "vocab_size", None), "corpus": corpus.facts(last_doc),
                "created_by": "sae_workbench_capture"}

    writer = SerialWorker(depth=2)

    def write(rows, contexts_end):
        nonlocal last_doc
        tensors = rows.tensors()
        last_doc = max(last_doc, int(tensors["doc"].max()) + 1)
        name = folder.write_shard(tensors, rows.rows, contexts_end)
        folder.write_manifest(facts(False), complete=False)
        emit("shard", file=name, rows=folder.shards[-1]["rows"], total_rows=folder.rows)

    def flush():
        if buffer.rows:
            rows, end = buffer.take(), contexts_done
            writer.submit(lambda: write(rows, end))

    stream = contexts(corpus.documents(), tok, opts.context_length, bos_id)
    for _ in range(contexts_done):  # skip what the listed shards already hold
        if next(stream, None) is None:
            break
    pad_id = bos_id if bos_id is not None else 0
    stop = False
    layouts = ReadAhead((b, BatchLayout(b, bos_id, opts.keep_bos, opts.skip_positions, pad_id))
                        for b in _batches(stream, opts.batch_size))
    try:
        for batch, layout in layouts:
            acts = recorder.run(loaded, layout.ids.to(opts.device), layout.mask.to(opts.device))
            n = len(layout.flat)
            if opts.max_rows and rows_done + n >= opts.max_rows:
                n = opts.max_rows - rows_done
                stop = True
            flat = layout.flat[:n].to(next(iter(acts.values())).device)
            kept = {}
            for name, a in acts.items():
                dims[name] = a.shape[-1]
                kept[name] = a.reshape(-1, a.shape[-1]).index_select(0, flat).to(storage).cpu()
            buffer.add(kept, layout.token_ids[:n], layout.doc[:n], layout.pos[:n])
            contexts_done += len(batch)
            rows_done += n
            rows_this_run += n
            if not shard_rows:  # about 128 MB per shard
                row_bytes = sum(dims.values()) * torch.empty(0, dtype=storage).element_size()
                shard_rows = max(1024, (128 * 2**20) // max(1, row_bytes))
            if buffer.rows >= shard_rows:
                flush()
            now = time.monotonic()
            if now - last_emit >= opts.progress_interval:
                last_emit = now
                fraction = rows_done / opts.max_rows if opts.max_rows else corpus.fraction
                emit("progress", rows=rows_done, contexts=contexts_done, fraction=round(min(1.0, fraction), 4),
                     rows_per_s=round(rows_this_run / max(1e-9, now - started), 1))
            if stop:
                break
        flush()
    finally:
        layouts.close()
        try:
            writer.close()  # the shards already queued are written, also on Ctrl-C: each is whole or absent
        finally:
            recorder.close()
    if folder.rows == 0:
        raise SpecError(f"corpus '{corpus.spec}': no rows to capture (the corpus has no text, or --skip-positions drops every token)")
    folder.write_manifest(facts(True), complete=True)
    folder.remove_unlisted_files()
    emit("done", rows=folder.rows, shards=len(folder.shards), out=opts.out,
         rows_per_s=round(rows_this_run / max(1e-9, time.monotonic() - started), 1))
    return folder
