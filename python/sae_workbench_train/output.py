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
    tensors = {
        "W_enc": (p["W_enc"] * scale).float().cpu(), "b_enc": p["b_enc"].float().cpu(),
        "W_dec": (p["W_dec"] / scale).float().cpu(), "b_dec": (p["b_dec"] / scale).float().cpu(),
    }
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
    training = {**loss_facts(cfg, opts["sparsityCoef"], scale), "tokens": tokens, "steps": math.ceil(tokens / opts["batch"]),
                "batch": opts["batch"], "lr": opts["lr"], "seed": opts["seed"], "engine": engine, "backend": "torch",
                "activationScaleFolded": scale, "normalizeActivations": "expected_average_only_in" if opts["normalize"] else "none"}
    if cfg.arch == "batchtopk":
        training["topkThreshold"] = float(state.threshold)
    if opts.get("reconWeights") is not None:
        mode = opts["weighting"]
        training["reconstructionWeighting"] = {"mode": mode, **({"alpha": opts["weightAlpha"]} if mode == "variance" else {}), "gamma": opts["reconWeights"]}
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
