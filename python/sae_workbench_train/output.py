"""The trained SAE on disk, as our engine writes it (src/formats/saelens.ts, docs/training.md "Output"):
a SAELens v6 folder (cfg.json + sae_weights.safetensors, float32), sparsity.safetensors (log10 firing
fraction + 1e-10) and the training facts under cfg.json's sae_workbench.training. The activation scale is
folded into the saved weights, so the saved SAE works on raw activations."""
import json
import math
import os

import torch

from sae_workbench_common.safetensors_io import save_file


def loss_facts(cfg, sparsity_coef: float, scale: float) -> dict:
    """What diagnostics need to recover lambda_e (the Python side of lossFacts in src/sae/objectives.ts)."""
    penalty = "none"
    if cfg.arch == "gated":
        penalty = "l1_gate_decoder_norm_weighted"
    if cfg.arch == "relu":
        penalty = "l1_unit_norm_decoder" if cfg.unit_norm_decoder else "l1_decoder_norm_weighted"
        if cfg.norm_groups > 1:
            penalty = "l1_group_decoder_norm_over_sources"
    elif cfg.arch == "jumprelu":
        penalty = "l0_step"
    facts = {"lossConvention": "weighted_sum_of_squares" if cfg.gamma2 is not None else "sum_of_squares",
             "sparsityCoefficient": sparsity_coef, "sparsityPenalty": penalty, "unitNormDecoder": cfg.unit_norm_decoder}
    if len(cfg.prefixes) > 1:
        facts["matryoshkaPrefixLosses"] = "sum"
    if cfg.arch == "relu" and cfg.gamma2 is None and cfg.norm_groups == 1 and len(cfg.prefixes) == 1:
        facts["lambdaE"] = sparsity_coef / 2 / scale
    if cfg.arch == "jumprelu":
        facts["l0Coefficient"] = sparsity_coef
        facts["bandwidth"] = cfg.bandwidth
    if cfg.aux_k:
        facts["auxKCoefficient"] = cfg.aux_coef
        facts["kAux"] = cfg.k_aux
    return facts


def architecture_name(cfg, transcoder: bool) -> str:
    if transcoder:
        return "skip_transcoder" if cfg.skip else ("jumprelu_transcoder" if cfg.arch in ("jumprelu", "batchtopk") else "transcoder")
    return {"relu": "standard", "batchtopk": "jumprelu"}.get(cfg.arch, cfg.arch)


def training_facts(cfg, opts, scale, tokens, engine) -> dict:
    """cfg.json's sae_workbench.training (exportSae in src/train/export.ts), plus the backend that trained it."""
    training = {**loss_facts(cfg, opts["sparsityCoef"], scale), "tokens": tokens, "steps": math.ceil(tokens / opts["batch"]),
                "batch": opts["batch"], "lr": opts["lr"], "seed": opts["seed"], "engine": engine, "backend": "torch",
                "activationScaleFolded": scale, "normalizeActivations": "expected_average_only_in" if opts["normalize"] else "none"}
    if opts.get("reconWeights") is not None:
        mode = opts["weighting"]
        training["reconstructionWeighting"] = {"mode": mode, **({"alpha": opts["weightAlpha"]} if mode == "variance" else {}), "gamma": opts["reconWeights"]}
    return training


def write_json_atomic(path, doc) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@torch.no_grad()
def save_sae(out_dir, state, opts, scale, tokens, engine, facts) -> None:
    """Writes the SAELens folder; `facts` are a capture's model_name / hook_name, `opts` the resolved options."""
    cfg, p = state.cfg, state.params
    transcoder = opts.get("kind") == "transcoder"
    if opts.get("kind") == "crosscoder":
        return save_crosscoder(out_dir, state, training_facts(cfg, opts, scale, tokens, engine))
    tensors = {
        "W_enc": (p["W_enc"] * scale).float().cpu(), "b_gate" if cfg.arch == "gated" else "b_enc": p["b_enc"].float().cpu(),
        "W_dec": (p["W_dec"] / scale).float().cpu(), "b_dec": (p["b_dec"] / scale).float().cpu(),
    }
    if cfg.arch == "gated":
        # the magnitude path is scale-free (pre-activations are unchanged by the folding)
        tensors["b_mag"] = p["b_mag"].float().cpu()
        tensors["r_mag"] = p["r_mag"].float().cpu()
    if cfg.arch == "jumprelu":
        tensors["threshold"] = p["log_threshold"].exp().float().cpu()
    if cfg.arch == "batchtopk":
        tensors["threshold"] = torch.full((cfg.d_sae,), float(state.threshold), dtype=torch.float32)
    if cfg.skip:
        tensors["W_skip"] = p["W_skip"].float().cpu()
    os.makedirs(out_dir, exist_ok=True)
    save_file(tensors, os.path.join(out_dir, "sae_weights.safetensors"))
    density = state.window_fires.cpu() / max(tokens, 1)
    save_file({"sparsity": torch.log10(density + 1e-10).float()}, os.path.join(out_dir, "sparsity.safetensors"))
    training = training_facts(cfg, opts, scale, tokens, engine)
    if cfg.arch == "batchtopk":
        training["topkThreshold"] = float(state.threshold)
    activation = "jumprelu" if (transcoder and cfg.arch == "batchtopk") else cfg.arch
    doc = {
        "d_in": cfg.d_in, "d_sae": cfg.d_sae, "dtype": "float32", "device": "cpu",
        "apply_b_dec_to_input": False if transcoder else cfg.b_dec_input, "normalize_activations": "none",
        "reshape_activations": "none", "architecture": architecture_name(cfg, transcoder),
    }
    if transcoder:
        doc["d_out"] = cfg.d_out
    if cfg.arch in ("topk", "batchtopk"):
        doc["k"] = cfg.k
        doc["rescale_acts_by_decoder_norm"] = False
    if len(cfg.prefixes) > 1:
        doc["matryoshka_widths"] = cfg.prefixes
    doc["metadata"] = {"sae_lens_version": "6.18.0", "hook_name": facts.get("hook_name"), "model_name": facts.get("model_name"),
                       "dataset_path": facts.get("dataset_path"), **({"context_size": facts["context_size"]} if "context_size" in facts else {})}
    doc["sae_workbench"] = {"activation": activation, **({"k": cfg.k} if cfg.k else {}), "training": training}
    write_json_atomic(os.path.join(out_dir, "cfg.json"), doc)
    return None


CROSSCODER_LATENTS_FILE = "crosscoder_latents.json"


def crosscoder_latent_stats(w_dec: torch.Tensor, n_sources: int):
    """Per latent, the share of each source in the decoder norm and the cosine of each source's direction to
    the first's, as lists (NaN for a zero latent / direction), and for two sources the counts of latents
    only in source 1 (r < 0.1), only in source 2 (r > 0.9) and shared (0.3 < r < 0.7): crosscoderLatentStats
    in src/sae/crosscoderAnalysis.ts."""
    h = w_dec.shape[0]
    dirs = w_dec.double().reshape(h, n_sources, -1)
    norms = dirs.norm(dim=-1).float().double()  # float32 norms, as the TS side keeps them
    total = norms.sum(1, keepdim=True)
    share = torch.where(total > 0, norms / total.where(total > 0, torch.ones_like(total)), torch.full_like(norms, float("nan"))).float()
    dots = (dirs[:, :1] * dirs[:, 1:]).sum(-1)
    den = norms[:, :1] * norms[:, 1:]
    cos = torch.where(den > 0, dots / den.where(den > 0, torch.ones_like(den)), torch.full_like(den, float("nan"))).float()
    counts = None
    if n_sources == 2:
        r = share[:, 1]
        counts = {"onlyFirst": int((r < 0.1).sum()), "onlySecond": int((r > 0.9).sum()), "shared": int(((r > 0.3) & (r < 0.7)).sum())}
    return share, cos, counts


def _json_floats(t: torch.Tensor) -> list:
    return [None if math.isnan(v) else v for v in t.reshape(-1).tolist()]


@torch.no_grad()
def save_crosscoder(out_dir, state, training) -> dict:
    """A trained crosscoder in its format, as saveTrainedCrosscoder (src/train/export.ts) and saveCrosscoder
    (src/formats/crosscoder.ts) write it: cfg.json (the training facts, d_in, dict_size, n_sources,
    enc_dtype) and cc_weights.safetensors with W_enc [L, d, H], W_dec [H, L, d], b_enc [H], b_dec [L, d]
    (our [L*d, H] encoder and [H, L*d] decoder reshaped, row-major as they are), plus crosscoder_latents.json.
    Crosscoders train unscaled, so there is no scale to fold. Returns the summary's crosscoder facts."""
    cfg, p = state.cfg, state.params
    n, h = cfg.norm_groups, cfg.d_sae
    d = cfg.d_out // n
    w_dec = p["W_dec"].detach().float().cpu()
    tensors = {"W_enc": p["W_enc"].detach().float().cpu().reshape(n, d, h), "W_dec": w_dec.reshape(h, n, d),
               "b_enc": p["b_enc"].detach().float().cpu(), "b_dec": p["b_dec"].detach().float().cpu().reshape(n, d)}
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(os.path.join(out_dir, "cc_weights.pt")):
        os.remove(os.path.join(out_dir, "cc_weights.pt"))  # an older save's weights would shadow nothing, but mislead
    save_file(tensors, os.path.join(out_dir, "cc_weights.safetensors"))
    write_json_atomic(os.path.join(out_dir, "cfg.json"), {"sae_workbench": {"training": training}, "d_in": d, "dict_size": h, "n_sources": n, "enc_dtype": "fp32"})
    share, cos, counts = crosscoder_latent_stats(w_dec, n)
    with open(os.path.join(out_dir, CROSSCODER_LATENTS_FILE), "w", encoding="utf-8") as f:
        f.write(json.dumps({"nSources": n, "normShare": _json_floats(share), "cosineToFirst": _json_floats(cos)}, separators=(",", ":")) + "\n")
    return {"latentsFile": CROSSCODER_LATENTS_FILE, **({"relativeNormCounts": counts} if counts else {})}
