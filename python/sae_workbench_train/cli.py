"""Command line of the PyTorch backend. The options are those of `sae-workbench train` (docs/training.md)
plus the device ones; bad input gets one line on stderr and exit code 2, with nothing written."""
import argparse
import json
import os
import signal
import sys

import torch

from sae_workbench_common.progress import emit, fail

from .data import DataError, open_feed
from .memory import GiB, largest_width, run_bytes
from .init import oracle_weights
from .objectives import ARCHS, TRANSCODER_ARCHS
from .step import Dist, TorchDist
from .trainer import Cancelled, Run, now, read_checkpoint_meta, resolve


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        fail(f"sae_workbench_train: {message}")


def positive(name):
    def parse(v):
        try:
            n = int(v)
        except ValueError:
            n = 0
        if n < 1:
            raise argparse.ArgumentTypeError(f"--{name}: expected a positive integer, got {v!r}")
        return n
    return parse


def parser():
    p = OneLineParser(prog="python -m sae_workbench_train", description="Train an SAE with PyTorch (CUDA or CPU, torchrun DDP).")
    p.add_argument("--activations", nargs="+", help=".npy/.safetensors files or capture folders of [tokens, d_in] rows")
    p.add_argument("--out", required=True)
    p.add_argument("--arch", choices=ARCHS, default=None)
    p.add_argument("--width", type=positive("width"))
    p.add_argument("--k", type=positive("k"))
    p.add_argument("--l1", type=float)
    p.add_argument("--tokens", type=positive("tokens"))
    p.add_argument("--batch", type=positive("batch"), default=4096)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--lr-warmup", type=int)
    p.add_argument("--lr-decay", type=int)
    p.add_argument("--l1-warmup", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=positive("checkpoint-every"), default=1000)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--unit-norm-decoder", action="store_true")
    p.add_argument("--b-dec-init", choices=("geometric_median", "mean", "zeros"), default="geometric_median")
    p.add_argument("--no-normalize", dest="normalize", action="store_false")
    p.add_argument("--dead-tokens", type=positive("dead-tokens"))
    p.add_argument("--resample-every", type=int, default=0)
    p.add_argument("--non-finite", choices=("skip", "stop"), default="skip")
    p.add_argument("--tensor", help="tensor of a .safetensors file, or site of a capture folder")
    p.add_argument("--memory-budget", type=positive("memory-budget"), default=256 * 2**20)
    p.add_argument("--weighting", choices=("none", "variance", "oracle"), default="none")
    p.add_argument("--weight-alpha", type=float, default=-0.5)
    p.add_argument("--ground-truth", help="oracle weighting: a synthetic folder or its ground_truth.safetensors (the mixing matrix)")
    p.add_argument("--no-aux-k", dest="aux_k", action="store_false", help="topk/batchtopk: no aux-k loss on dead latents")
    p.add_argument("--bandwidth", type=float, default=0.05, help="jumprelu: the straight-through estimators' bandwidth")
    p.add_argument("--init-threshold", type=float, default=0.01, help="jumprelu: the initial threshold")
    p.add_argument("--decoder-init-norm", type=float, help="norm of the initial decoder rows (default: the architecture's)")
    p.add_argument("--target", help="transcoder: target rows, row-aligned with the single --activations input")
    p.add_argument("--skip", action="store_true")
    p.add_argument("--crosscoder", action="store_true")
    p.add_argument("--matryoshka-widths", help="comma-separated prefix widths")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--bf16", action="store_true", help="CUDA: bfloat16 autocast for the forward pass (float32 weights and Adam)")
    p.add_argument("--tf32", action="store_true", help="CUDA: TF32 matmuls")
    p.add_argument("--threads", type=positive("threads"), help="CPU threads of torch")
    p.add_argument("--run-id")
    return p


def pick_device(a, local_rank):
    if a.device == "cuda" and not torch.cuda.is_available():
        built = "built without CUDA" if torch.version.cuda is None else f"CUDA {torch.version.cuda}, but no GPU is visible"
        fail(f"--device cuda: CUDA is not available to this torch {torch.__version__} ({built}); use --device cpu or auto")
    if a.device == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", local_rank)


def check_memory(o, device, d_in, d_out, world):
    arch, width, local = o["arch"], o["width"], o["batch"] // world
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        need = run_bytes(arch, d_in, width, local, d_out, bool(o.get("skip")))
        if need > 0.9 * props.total_memory:
            fit = largest_width(arch, d_in, local, props.total_memory)
            fail(f"--width {width}: a {arch} SAE of d_in {d_in} at batch {local} per GPU needs about {need / GiB:.1f} GiB, "
                 f"{props.name} has {props.total_memory / GiB:.1f} GiB (the largest width that fits is about {fit:,}; reduce --width or --batch)")
        return
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    need = run_bytes(arch, d_in, width, local, d_out, bool(o.get("skip")), cuda=False) + o["memoryBudget"]
    if need > 0.8 * total:
        fail(f"--width {width}: d_sae {width} x d_in {d_in} at batch {local} needs about {need / GiB:.2f} GiB; this machine allows {0.8 * total / GiB:.2f} GiB (reduce --width or --batch)")


def options(a, dist):
    """Resolved options (from the checkpoint on --resume) and the opened feed."""
    meta = ckpt = None
    if a.resume:
        try:
            meta, ckpt = read_checkpoint_meta(a.out)
        except ValueError as e:
            fail(str(e))
        if meta is None:
            fail(f"{a.out}: nothing to resume: no checkpoint in this folder")
        o = dict(meta["options"])
        for key, given in (("arch", a.arch), ("width", a.width), ("k", a.k)):
            if given is not None and given != o[key] and not (key == "k" and o["k"] == 0):
                fail(f"--{key}: {given} differs from the checkpoint's {o[key]} ({ckpt})")
        if meta.get("world", 1) != dist.world:
            fail(f"{ckpt}: written by a run on {meta.get('world', 1)} process(es); resume it with the same number (--nproc)")
        if a.activations:
            o["activations"] = a.activations
    else:
        if not a.activations:
            fail("--activations: required (.npy/.safetensors files or a capture folder)")
        if a.width is None:
            fail("--width: required (the number of latents)")
        if a.weighting == "oracle" and not a.ground_truth:
            fail("--ground-truth: oracle weighting needs the synthetic folder (or its ground_truth.safetensors) holding the mixing matrix")
        if a.weighting != "oracle" and a.ground_truth:
            fail("--ground-truth: only used with --weighting oracle")
        a.arch_given = a.arch is not None
        a.arch = a.arch or "topk"
        # familyKind, familyArch and matryoshkaPrefixes in src/train/options.ts
        kinds = [k for k, on in (("transcoder", a.target), ("crosscoder", a.crosscoder), ("Matryoshka", a.matryoshka_widths)) if on]
        if len(kinds) > 1:
            fail(f"--arch: choose one of transcoder (--target), crosscoder (--crosscoder) and Matryoshka (--matryoshka-widths), got {' and '.join(kinds)}")
        if a.matryoshka_widths:
            try:
                widths = [int(w) for w in a.matryoshka_widths.split(",")]
            except ValueError:
                widths = []
            if not widths or any(w <= 0 or (i and w <= widths[i - 1]) for i, w in enumerate(widths)):
                fail(f"--matryoshka-widths: expected increasing positive integers, got {a.matryoshka_widths}")
            if widths[-1] > a.width:
                fail(f"--matryoshka-widths: the last prefix {widths[-1]} is larger than the width {a.width}")
            if a.arch_given and a.arch != "batchtopk":
                fail(f"--arch: Matryoshka SAEs are BatchTopK; got {a.arch}")
            a.matryoshka_widths = widths
        else:
            a.matryoshka_widths = None
        if a.crosscoder and a.arch_given and a.arch != "relu":
            fail(f"--arch: the crosscoder format is ReLU (f = ReLU(sum_l x_l W_enc,l + b_enc)); got {a.arch}")
        if a.target and a.arch not in TRANSCODER_ARCHS:
            fail(f"--arch: SAELens has no {a.arch} transcoder form; use one of {', '.join(TRANSCODER_ARCHS)}")
        if a.skip and (not a.target or a.arch != "relu"):
            fail("--skip: only ReLU transcoders (--target) have a skip connection")
        if a.batch % dist.world:
            fail(f"--batch {a.batch}: not a multiple of the {dist.world} processes")
        a.device_name = a.device
        o = None
    specs = lambda o: o["activations"] if o.get("kind") != "transcoder" else [o["activations"][0], o["target"]]  # noqa: E731
    try:
        if o is None:
            probe_specs = a.activations if not a.target else [a.activations[0], a.target]
            probe, facts = open_feed(probe_specs, a.tensor)
            o = resolve(a, probe.total_rows)
            if o.get("kind") == "crosscoder":
                # crosscoderFeed in src/train/feeds.ts: L >= 2 sources of one width
                if len(probe.streams) < 2:
                    fail(f"--activations: a crosscoder needs at least 2 source files (one per layer or model), got {len(probe.streams)}")
                for s in probe.streams[1:]:
                    if s.d != probe.streams[0].d:
                        fail(f"{s.name}: width {s.d}, but {probe.streams[0].name} has {probe.streams[0].d}: the crosscoder format needs one d_in for all sources")
            if o["weighting"] == "oracle":
                # from the ground truth alone, so a bad file is refused before anything is written
                d_target = probe.streams[1].d if o.get("kind") == "transcoder" else sum(s.d for s in probe.streams)
                o["reconWeights"] = oracle_weights(o["groundTruth"], d_target).tolist()
            if o["k"] > o["width"]:
                fail(f"--k: k = {o['k']} is larger than the width {o['width']}")
            if o.get("kind") and o["batch"] > probe.total_rows:
                fail(f"--batch: batch {o['batch']} is larger than the {probe.total_rows} rows")
        feed, facts = open_feed(specs(o), o.get("tensorName"), seed=o["seed"], memory_budget=o["memoryBudget"],
                                on_non_finite=o["onNonFinite"], rank=dist.rank, world=dist.world)
    except DataError as e:
        fail(str(e))
    facts = {"dataset_path": os.path.abspath(o["activations"][0]), **facts}
    return o, feed, facts, meta, ckpt


def expand_config(argv):
    """`--config run.json` stands for the arguments listed in it ({"args": [...]}; written beside the
    torchrun script the editor prepares for a cluster job); arguments after it are added."""
    if "--config" not in argv:
        return argv
    i = argv.index("--config")
    if i + 1 >= len(argv):
        fail("--config: expected a file")
    path = argv[i + 1]
    try:
        with open(path, encoding="utf-8") as f:
            listed = json.load(f)["args"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"{path}: not a run configuration ({e})")
    return argv[:i] + [str(v) for v in listed] + argv[i + 2:]


def main(argv):
    a = parser().parse_args(expand_config(argv))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(a, local_rank)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.tf32 and device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    dist = Dist()
    if world > 1:
        import torch.distributed as tdist
        tdist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist = TorchDist()
    o, feed, facts, meta, ckpt = options(a, dist)
    kind = o.get("kind")
    d_in = sum(s.d for s in feed.streams) if kind == "crosscoder" else feed.streams[0].d
    d_out = feed.streams[1].d if kind == "transcoder" else d_in
    if meta and meta["dIn"] != d_in:
        fail(f"{o['activations'][0]}: d_in {d_in} differs from the checkpoint's {meta['dIn']} ({ckpt}); resume with the activations the run started on")
    check_memory(o, device, d_in, d_out, dist.world)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu x{torch.get_num_threads()} threads"
    engine = f"torch {torch.__version__} {name}" + (" bf16" if o.get("bf16") and device.type == "cuda" else "") + (f" DDP x{dist.world} ({'nccl' if device.type == 'cuda' else 'gloo'})" if dist.world > 1 else "")
    notes = []
    if a.bf16 and device.type != "cuda":
        notes.append("--bf16 applies on CUDA only: training in float32 on the CPU")
    cancel = {"flag": False}

    def on_signal(*_):
        cancel["flag"] = True
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    # a `.cancel` file in the output folder stops the run too: the editor writes it, for runs under torchrun
    # or started elsewhere as much as for its own
    cancel_file = os.path.join(o["outDir"], ".cancel")

    def cancelled():
        mine = cancel["flag"] or os.path.exists(cancel_file)
        if dist.world == 1:
            return mine
        t = torch.tensor([1.0 if mine else 0.0], device=device)
        dist.all_reduce(t)
        return float(t) > 0

    os.makedirs(o["outDir"], exist_ok=True)
    if dist.rank == 0 and os.path.exists(cancel_file):
        os.remove(cancel_file)  # a stale request from an earlier run
    run = Run(o, feed, facts, device, dist, engine, notes, meta, ckpt)
    try:
        run.start()
        summary = run.loop(cancelled)
    except Cancelled as c:
        if dist.rank == 0:
            if os.path.exists(cancel_file):
                os.remove(cancel_file)
            # the log says so too, for an editor that follows the run through its folder (a cluster job)
            run.log({"type": "cancelled", "runId": o["runId"], "step": run.step_no, "checkpoint": str(c), "time": now()})
            emit("cancelled", runId=o["runId"], lastCheckpoint=str(c))
        raise SystemExit(130)
    except (ValueError, DataError) as e:
        run.log({"type": "error", "runId": o["runId"], "message": str(e), "time": now()})
        fail(str(e))
    if dist.rank == 0:
        emit("done", runId=o["runId"], outDir=o["outDir"], summary=summary)
    if world > 1:
        torch.distributed.destroy_process_group()
    sys.exit(0)
