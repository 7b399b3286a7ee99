"""The training loop of one run, as src/train/trainer.ts runs it: options -> feed -> init or resume -> steps
with schedules, dead-latent tracking, resampling, checkpoints and progress -> the output folder.

Progress goes to stdout as JSON lines ({"event": "progress", "progress": {...}} with the fields of
src/protocol/training.ts TrainingProgress; "checkpoint", "done", "cancelled"), and to training_log.jsonl
in our engine's schema (start / step / resume / resample / summary records). Under torchrun only rank 0
writes files and prints.
"""
import json
import math
import os
import time
from datetime import datetime, timezone

import numpy as np
import torch

from sae_workbench_common.progress import emit
from sae_workbench_common.safetensors_io import load_file, read_metadata, save_file

from .data import open_feed
from .init import activation_scale, b_dec_start, init_weights, variance_weights
from .objectives import objective_config, unit_norm_decoder_of
from .output import save_sae
from .step import TrainState

TRAINING_LOG = "training_log.jsonl"
CHECKPOINT = os.path.join("checkpoints", "latest.safetensors")


class Cancelled(Exception):
    pass


def now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def lr_at(o, step, total):
    f = 1.0
    if o["lrWarmupSteps"] > 0:
        f *= min(1.0, (step + 1) / o["lrWarmupSteps"])
    if o["lrDecaySteps"] > 0 and step >= total - o["lrDecaySteps"]:
        f *= (total - step) / o["lrDecaySteps"]
    return o["lr"] * f


def sparsity_at(o, step):
    w = o["sparsityWarmupSteps"]
    return o["sparsityCoef"] * (min(1.0, (step + 1) / w) if w > 0 else 1.0)


def resolve(a, rows):
    """Every option to a value, with our engine's defaults (resolveOptions in src/train/trainer.ts)."""
    kind = "transcoder" if a.target else "crosscoder" if a.crosscoder else "matryoshka" if a.matryoshka_widths else None
    arch = "batchtopk" if kind == "matryoshka" else ("relu" if kind == "crosscoder" and not a.arch_given else a.arch)
    batch, width = a.batch, a.width
    tokens = a.tokens or rows
    total = math.ceil(tokens / batch)
    is_topk = arch in ("topk", "batchtopk")
    k = (a.k or min(32, width)) if is_topk else 0
    unit = unit_norm_decoder_of(arch, a.unit_norm_decoder)
    l1 = a.l1 if a.l1 is not None else (5.0 if arch in ("relu", "gated") else 1.0 if arch == "jumprelu" else 0.0)
    # TopK/BatchTopK train at a constant lr, as SAELens does (resolveOptions in src/train/options.ts)
    constant_lr = is_topk
    o = {
        "activations": a.activations, "tensorName": a.tensor, "outDir": a.out, "arch": arch, "width": width, "k": k,
        "sparsityCoef": l1, "tokens": tokens, "batch": batch, "lr": a.lr,
        "lrWarmupSteps": a.lr_warmup if a.lr_warmup is not None else (0 if constant_lr else min(1000, int(total * 0.05))),
        "lrDecaySteps": a.lr_decay if a.lr_decay is not None else (0 if constant_lr else int(total * 0.2)),
        "sparsityWarmupSteps": a.l1_warmup if a.l1_warmup is not None else int(total * 0.05),
        "seed": a.seed, "checkpointEvery": a.checkpoint_every,
        "onNonFinite": "stop" if kind in ("transcoder", "crosscoder") else a.non_finite,
        "memoryBudget": a.memory_budget, "unitNormDecoder": unit, "bDecInit": a.b_dec_init,
        "decoderInitNorm": a.decoder_init_norm if a.decoder_init_norm is not None else (0.1 if (arch in ("relu", "gated") and not unit) else 1.0),
        "normalize": False if kind else a.normalize,
        "deadTokens": a.dead_tokens if a.dead_tokens is not None else min(10_000_000, max(batch * 10, tokens // 5)),
        "resampleEvery": a.resample_every, "bandwidth": a.bandwidth, "initThreshold": a.init_threshold, "auxK": a.aux_k,
        "weighting": a.weighting, "weightAlpha": a.weight_alpha, **({"groundTruth": a.ground_truth} if a.ground_truth else {}), "runId": a.run_id or f"run-{int(time.time() * 1000):x}",
        "device": a.device_name, "bf16": bool(a.bf16), "tf32": bool(a.tf32),
    }
    if kind:
        o.update({"kind": kind, "target": a.target, "skip": bool(a.skip)})
    if kind == "matryoshka":
        ws = a.matryoshka_widths
        o["prefixes"] = ws if ws[-1] == width else ws + [width]
    return o


def build_config(o, d_in, d_out, sources):
    kind = o.get("kind")
    gamma2 = None
    if o.get("reconWeights") is not None:
        gamma2 = torch.tensor(o["reconWeights"], dtype=torch.float32) ** 2
    return objective_config(
        o["arch"], d_in, o["width"], k=o["k"] or None, unit_norm_decoder=o["unitNormDecoder"], bandwidth=o["bandwidth"],
        aux_k=o["auxK"], d_out=d_out, target=kind == "transcoder", norm_groups=sources if kind == "crosscoder" else 1,
        prefixes=o.get("prefixes"), skip=bool(o.get("skip")), gamma2=gamma2,
        b_dec_input=False if kind in ("transcoder", "crosscoder") else True,
    )


class Run:
    """One run on one rank. `dist` is step.Dist (single process) or step.TorchDist."""

    def __init__(self, o, feed, facts, device, dist, engine, notes, meta=None, ckpt=None):
        self.o, self.feed, self.facts, self.device, self.dist, self.engine, self.notes = o, feed, facts, device, dist, engine, notes
        self.main = dist.rank == 0
        kind = o.get("kind")
        self.d_in = sum(s.d for s in feed.streams) if kind == "crosscoder" else feed.streams[0].d
        self.d_out = feed.streams[1].d if kind == "transcoder" else self.d_in
        self.local_batch = o["batch"] // dist.world
        self.total_steps = math.ceil(o["tokens"] / o["batch"])
        self.log_path = os.path.join(o["outDir"], TRAINING_LOG)
        self.meta, self.ckpt = meta, ckpt
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if (o.get("bf16") and device.type == "cuda") else None

    def log(self, rec):
        if self.main:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")

    def batch(self):
        parts = self.feed.next(self.local_batch)
        if parts[0].shape[0] < self.local_batch:
            raise ValueError(f"{self.o['activations'][0]}: ran out of rows")
        kind = self.o.get("kind")
        x = torch.from_numpy(np.concatenate(parts, axis=1) if kind == "crosscoder" else parts[0]).to(self.device)
        if self.scale != 1:
            x = x * self.scale
        y = torch.from_numpy(parts[1]).to(self.device) if kind == "transcoder" else x
        return x, y

    def start(self):
        o = self.o
        self.cfg = None
        if self.meta is not None:
            m = self.meta
            self.scale = m["activationScale"]
            self.cfg = build_config(o, self.d_in, self.d_out, len(self.feed.streams))
            self.state = TrainState(self.cfg, self.device)
            tensors = load_file(self.ckpt)
            self.state.load({k: v.to(self.device) for k, v in tensors.items()}, self.ckpt)
            self.state.t, self.state.threshold = m["adamT"], m["bTopkThreshold"]
            self.step_no, self.tokens = m["step"], m["tokens"]
            self.feed.state = dict(m["reader"])
            self.gen = torch.Generator().manual_seed(0)
            self.gen.set_state(tensors["rng_state"].to(torch.uint8))
            self.log({"type": "resume", "runId": o["runId"], "step": self.step_no, "engine": self.engine, "notes": self.notes, "time": now()})
            return
        if self.main and os.path.exists(self.log_path):
            os.remove(self.log_path)
        kind = o.get("kind")
        sampler, _ = open_feed(o["activations"] if kind != "transcoder" else [o["activations"][0], o["target"]], o.get("tensorName"),
                               seed=o["seed"] + 1, memory_budget=min(o["memoryBudget"], 64 * 2**20), loop=False,
                               on_non_finite="stop" if o["onNonFinite"] == "stop" else "skip")
        parts = sampler.next(min(4096, sampler.total_rows))
        if parts[0].shape[0] == 0:
            raise ValueError(f"{o['activations'][0]}: no finite rows to train on")
        sample = np.concatenate(parts, axis=1) if kind == "crosscoder" else parts[0]
        target = parts[1] if kind == "transcoder" else None
        self.scale = activation_scale(sample) if o["normalize"] else 1.0
        sample = sample * self.scale
        tsample = target if target is not None else sample
        if o["weighting"] == "variance":
            o["reconWeights"] = variance_weights(tsample, o["weightAlpha"]).tolist()
        self.cfg = build_config(o, self.d_in, self.d_out, len(self.feed.streams))
        self.state = TrainState(self.cfg, "cpu")
        self.gen = torch.Generator().manual_seed(o["seed"] ^ 0x5EED)
        p = self.state.params
        with torch.no_grad():
            p["b_dec"].copy_(torch.from_numpy(b_dec_start(o.get("bDecInit", "geometric_median"), tsample)))
            init_weights(p, o["decoderInitNorm"], 1.0 if kind else o["decoderInitNorm"], self.gen, uniform=o["arch"] == "topk")
            if self.cfg.arch == "jumprelu":
                p["log_threshold"].fill_(math.log(o["initThreshold"]))
        self.state = self._move(self.state)
        self.step_no, self.tokens = 0, 0
        start = {"type": "start", "runId": o["runId"], **({"kind": kind, "dOut": self.d_out} if kind else {}), "options": o,
                 "dIn": self.d_in, "totalSteps": self.total_steps, "engine": self.engine, "notes": self.notes,
                 "activationScale": self.scale, "backend": "torch", "time": now()}
        self.log(start)

    def _move(self, state):
        if self.device.type == "cpu":
            return state
        moved = TrainState(state.cfg, self.device)
        moved.load({k: v.to(self.device) for k, v in state.tensors().items()}, "init")
        return moved

    def checkpoint(self):
        if not self.main:
            return None
        path = os.path.join(self.o["outDir"], CHECKPOINT)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        meta = {"version": 1, "backend": "torch", "options": self.o, "dIn": self.d_in, **({"dOut": self.d_out} if self.d_out != self.d_in else {}),
                "step": self.step_no, "totalSteps": self.total_steps, "tokens": self.tokens, "adamT": self.state.t,
                "reader": dict(self.feed.state), "activationScale": self.scale, "bTopkThreshold": self.state.threshold,
                "engine": self.engine, "world": self.dist.world}
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.state.tensors().items()}
        tensors["rng_state"] = self.gen.get_state()
        try:
            save_file(tensors, path, metadata={"sae_workbench_checkpoint": json.dumps(meta)})
        except OSError as e:
            raise ValueError(f"{path}: cannot write the checkpoint at step {self.step_no} ({e.strerror or e}); the previous checkpoint is intact, --resume continues from it") from None
        return path

    def loop(self, cancelled):
        o, st = self.o, self.state
        t0 = time.perf_counter()
        start_step = self.step_no
        last_emit = 0.0
        last = None
        log_every = max(1, self.total_steps // 200)
        while self.step_no < self.total_steps:
            if cancelled():
                path = self.checkpoint()
                if self.main:
                    emit("checkpoint", runId=o["runId"], step=self.step_no, path=path)
                raise Cancelled(path)
            x, y = self.batch()
            last = st.step(x, y, lr_at(o, self.step_no, self.total_steps), sparsity_at(o, self.step_no), o["deadTokens"], self.dist, self.autocast)
            if not math.isfinite(last["loss"]):
                raise ValueError(f"{o['activations'][0]}: the loss became {last['loss']} at step {self.step_no} (try a smaller --lr)")
            self.step_no += 1
            self.tokens += o["batch"]
            if o["resampleEvery"] > 0 and self.step_no % o["resampleEvery"] == 0 and self.step_no < self.total_steps * 0.8:
                from .resample import resample_dead
                n = resample_dead(st, o["deadTokens"], self.gen, self.dist)
                if n:
                    self.log({"type": "resample", "step": self.step_no, "latents": n})
            now_t = time.perf_counter()
            tps = (self.step_no - start_step) * o["batch"] / max(now_t - t0, 1e-9)
            loss = {"total": last["loss"], "mse": last["mse"]}
            if self.cfg.arch in ("relu", "gated"):
                loss["l1"] = last["sparsity"]
            if self.cfg.arch == "jumprelu":
                loss["l0"] = last["sparsity"]
            if self.cfg.aux_k or self.cfg.arch == "gated":  # aux-k, or the gate's auxiliary reconstruction
                loss["auxk"] = last["auxk"]
            progress = {"runId": o["runId"], "step": self.step_no, "totalSteps": self.total_steps, "tokens": self.tokens,
                        "totalTokens": self.total_steps * o["batch"], "loss": loss, "explainedVariance": last["explainedVariance"],
                        "l0": last["l0"], "deadFraction": st.dead_fraction(o["deadTokens"]), "tokensPerSecond": tps,
                        "etaSeconds": (self.total_steps - self.step_no) * o["batch"] / max(tps, 1e-9), "engine": self.engine}
            if self.step_no % log_every == 0 or self.step_no == self.total_steps:
                self.log({"type": "step", **progress})
            if self.main and (now_t - last_emit > 0.25 or self.step_no == self.total_steps or self.step_no - start_step <= 3):
                emit("progress", progress=progress)
                last_emit = now_t
            if self.step_no % o["checkpointEvery"] == 0 and self.step_no < self.total_steps:
                path = self.checkpoint()
                if self.main:
                    emit("checkpoint", runId=o["runId"], step=self.step_no, path=path)
        seconds = time.perf_counter() - t0
        summary = {"runId": o["runId"], "outDir": o["outDir"], **({"kind": o["kind"], "dOut": self.d_out} if o.get("kind") else {}),
                   "arch": o["arch"], "dIn": self.d_in, "width": o["width"], **({"k": self.cfg.k} if self.cfg.k else {}),
                   "steps": self.step_no, "tokens": self.tokens, "seconds": seconds,
                   "tokensPerSecond": (self.step_no - start_step) * o["batch"] / max(seconds, 1e-9),
                   "engine": self.engine, "engineNotes": self.notes, "backend": "torch", "world": self.dist.world,
                   "final": {"mse": last["mse"], "explainedVariance": last["explainedVariance"], "l0": last["l0"],
                             "deadFraction": st.dead_fraction(o["deadTokens"]), "loss": last["loss"]} if last else None,
                   "skippedRows": self.feed.state["skipped"], "activationScale": self.scale,
                   "resumedFrom": self.meta["step"] if self.meta else None}
        if self.main:
            crosscoder = save_sae(o["outDir"], st, o, self.scale, self.tokens, self.engine, self.facts)
            if crosscoder:
                summary["crosscoder"] = crosscoder
            self.log({"type": "summary", **summary, "time": now()})
        return summary


def read_checkpoint_meta(out_dir):
    path = os.path.join(out_dir, CHECKPOINT)
    if not os.path.exists(path):
        return None, path
    raw = read_metadata(path).get("sae_workbench_checkpoint")
    if not raw:
        raise ValueError(f"{path}: not a SAE Workbench checkpoint (no sae_workbench_checkpoint metadata)")
    meta = json.loads(raw)
    if meta.get("backend") != "torch":
        raise ValueError(f"{path}: this checkpoint was written by the built-in engine; resume it without --backend torch")
    return meta, path
