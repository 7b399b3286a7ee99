"""python -m sae_workbench_capture: argparse front end. Bad input: one line on stderr, exit 2.
Progress: JSON lines on stdout. Ctrl-C (or SIGTERM): complete shards stay, exit 130; run again to resume."""
import argparse
import signal
import sys

import torch

from sae_workbench_common.progress import emit, fail, quiet_stdout

from .corpus import Corpus
from .models import DTYPES, SpecError, load_model, resolve_sites


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, like every other bad input
        fail(f"{self.prog}: {message} (see --help)")


def parser():
    p = _Parser(
        prog="python -m sae_workbench_capture",
        description="Capture a model's activations at one or more sites over a text corpus into sharded "
                    "safetensors with token ids, tokenizer and W_U, for SAE Workbench.")
    p.add_argument("--model", required=True, help="Hugging Face name or local folder, a TransformerLens name "
                   "(with --model-kind transformer_lens), or module:factory returning a torch.nn.Module")
    p.add_argument("--model-kind", default="auto", choices=["auto", "huggingface", "transformer_lens", "module"])
    p.add_argument("--site", action="append", required=True, metavar="SITE",
                   help="a TransformerLens hook name or a module path (model.layers.8), optionally with :input "
                        "or :output (default); repeat for several sites in one pass")
    p.add_argument("--corpus", required=True, help="a .txt, .jsonl or .parquet file, or a datasets name (when installed and cached)")
    p.add_argument("--out", required=True, help="output folder (resumed when it holds an unfinished capture)")
    p.add_argument("--tokenizer", default=None, help="'bytes' (byte-level, BOS 256), or a Hugging Face tokenizer name/path; default: the model's own (bytes for module:factory)")
    p.add_argument("--text-field", default="text", help="text field of a .jsonl/.parquet/datasets record (default text)")
    p.add_argument("--split", default="train", help="datasets split (default train)")
    p.add_argument("--dataset-config", default=None, help="datasets configuration name")
    p.add_argument("--txt-split", default="paragraph", choices=["paragraph", "line", "file"],
                   help="documents of a .txt: blank-line separated paragraphs (default), lines, or the whole file")
    p.add_argument("--context-length", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--bos", default="auto", choices=["auto", "prepend", "none"],
                   help="start each context with the tokenizer's BOS token (auto: when it has one)")
    p.add_argument("--keep-bos", action="store_true", help="also keep the BOS position's rows (dropped by default)")
    p.add_argument("--skip-positions", type=int, default=0, help="drop the first N token positions of each context")
    p.add_argument("--max-rows", type=int, default=0, help="stop after this many rows (0: the whole corpus)")
    p.add_argument("--shard-rows", type=int, default=0, help="rows per shard (0: about 128 MB per shard)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, mps (auto: cuda when available)")
    p.add_argument("--dtype", default="float32", choices=sorted(DTYPES), help="dtype the rows are stored in")
    p.add_argument("--model-dtype", default="auto", choices=["auto"] + sorted(DTYPES), help="dtype the model runs in")
    p.add_argument("--no-w-u", dest="save_w_u", action="store_false", help="do not save the unembedding W_U")
    p.add_argument("--no-early-stop", dest="early_stop", action="store_false",
                   help="run the whole forward pass even after the last site has fired")
    p.add_argument("--overwrite", action="store_true", help="discard a capture already in --out")
    p.add_argument("--progress-interval", type=float, default=0.5, help="seconds between progress lines")
    return p


def _check(opts):
    if opts.context_length < 2:
        fail(f"--context-length {opts.context_length}: must be at least 2")
    if opts.batch_size < 1:
        fail(f"--batch-size {opts.batch_size}: must be at least 1")
    if opts.skip_positions < 0 or opts.max_rows < 0 or opts.shard_rows < 0:
        fail("--skip-positions, --max-rows and --shard-rows must not be negative")
    if opts.device == "auto":
        opts.device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.empty(0, device=opts.device)
    except (RuntimeError, AssertionError) as e:
        fail(f"--device {opts.device}: not available ({str(e).splitlines()[0]})")
    opts.dtype = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}.get(opts.dtype, opts.dtype)


def _interrupt(signum, frame):
    raise KeyboardInterrupt()


def main(argv):
    opts = parser().parse_args(argv)
    _check(opts)
    signal.signal(signal.SIGTERM, _interrupt)
    from .capture import run_capture
    try:
        corpus = Corpus(opts.corpus, opts.text_field, opts.split, opts.txt_split, opts.dataset_config)
        with quiet_stdout():
            loaded = load_model(opts.model, opts.model_kind, opts.device, opts.model_dtype, opts.tokenizer)
        sites = resolve_sites(loaded.model, opts.site)
        run_capture(loaded, sites, corpus, opts)
    except SpecError as e:
        fail(str(e))
    except KeyboardInterrupt:
        emit("cancelled")
        sys.stderr.write("sae_workbench_capture: cancelled; complete shards are kept, run the same command again to resume\n")
        raise SystemExit(130)
    except OSError as e:
        fail(f"{getattr(e, 'filename', None) or opts.out}: {e.strerror or e}")
    except torch.cuda.OutOfMemoryError if hasattr(torch.cuda, "OutOfMemoryError") else MemoryError:
        fail(f"out of memory on {opts.device}; lower --batch-size or --context-length")
