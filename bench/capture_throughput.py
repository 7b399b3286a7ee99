"""Capture throughput (rows/s) for the test transformer (python/tests/toy_model.py) on CPU, against a plain
forward pass of the same model over the same batches (the baseline: the least capture must do).

Capture writes a shard every SHARD_ROWS rows (several per run, with their fsyncs, as a real capture writes
one per 128 MB), so the shard writes are in the figure. Prints one JSON line per case with the 1-minute load
average before and after. Medians over repeats, the two measured alternately so machine load hits both
alike. Run by bench/capture.bench.ts; standalone: python3 bench/capture_throughput.py
"""
import io
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "python"), os.path.join(ROOT, "python", "tests")]

import torch  # noqa: E402

import toy_model  # noqa: E402
from conftest import paragraphs  # noqa: E402
from sae_workbench_capture.capture import BatchLayout, _batches, contexts  # noqa: E402
from sae_workbench_capture.cli import main as capture_main  # noqa: E402
from sae_workbench_capture.tokenizers import ByteTokenizer  # noqa: E402

CONTEXT, BATCH, REPEATS, SHARD_ROWS = 128, 16, 5, 2048


def plain_forward(model, docs):
    """rows/s of model(ids) over the batches capture would run (rows = the token rows capture keeps)."""
    tok = ByteTokenizer()
    layouts = [BatchLayout(b, tok.bos_token_id, False, 0, tok.bos_token_id)
               for b in _batches(contexts(docs, tok, CONTEXT, tok.bos_token_id), BATCH)]
    rows = sum(len(l.flat) for l in layouts)
    t0 = time.perf_counter()
    with torch.no_grad():
        for l in layouts:
            model(l.ids)
    return rows / (time.perf_counter() - t0), rows


def capture(corpus, out, factory, site, extra):
    buf = io.StringIO()
    with redirect_stdout(buf):
        capture_main(["--model", factory, "--site", site, "--corpus", corpus, "--out", out, "--overwrite",
                      "--context-length", str(CONTEXT), "--batch-size", str(BATCH), "--shard-rows", str(SHARD_ROWS),
                      "--progress-interval", "1e9", *extra])
    done = [json.loads(x) for x in buf.getvalue().splitlines() if x.strip()][-1]
    return done["rows_per_s"], done["rows"]


def main():
    os.chdir(os.path.join(ROOT, "python", "tests"))  # so module:factory imports toy_model
    docs = paragraphs(300, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n\n".join(docs) + "\n")
        for name, factory, make, site in [("toy d32 x2", "toy_model:make", toy_model.make, "blocks.1"),
                                           ("toy d128 x4", "toy_model:make_wide", toy_model.make_wide, "blocks.3")]:
            model = make().eval()
            for mode, extra in [("full forward", ["--no-early-stop"]), ("early stop", [])]:
                base, ours, load = [], [], os.getloadavg()[0]
                for _ in range(REPEATS):
                    b, rows = plain_forward(model, docs)
                    base.append(b)
                    o, got = capture(corpus, os.path.join(tmp, "out"), factory, site, extra)
                    ours.append(o)
                    assert got == rows, (got, rows)
                b, o = statistics.median(base), statistics.median(ours)
                print(json.dumps({"case": f"capture {name} at {site} ({mode}), CPU", "rows": rows, "rows_per_s": round(o),
                                  "baseline": "plain forward pass, same batches", "baseline_rows_per_s": round(b),
                                  "ratio": round(o / b, 3), "target": ">= 0.8", "torch_threads": torch.get_num_threads(),
                                  "repeats": REPEATS, "shards": -(-rows // SHARD_ROWS),
                                  "load_average_1m_before": load, "load_average_1m_after": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    main()
