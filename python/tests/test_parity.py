"""Parity with the built-in TypeScript engine: from the same weights and batches, one step gives the same
loss parts, gradients and updated parameters (1e-5, float32), and 200 steps give the same curves (1e-3).
Our engine runs through test/unit/train/torchParity.driver.ts (npx tsx)."""
import json
import os
import subprocess
import tempfile

import pytest
import torch

from sae_workbench_common.safetensors_io import load_file, read_metadata, save_file
from sae_workbench_train.objectives import objective_config, loss_parts, project_decoder_grad
from sae_workbench_train.step import TrainState

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
D_IN, D_SAE, B = 16, 48, 32

# name -> (objective_config kwargs, driver config, sparsity coefficient)
CASES = {
    "relu": (dict(arch="relu"), dict(arch="relu"), 0.05),
    "relu-unit-norm": (dict(arch="relu", unit_norm_decoder=True), dict(arch="relu", unitNormDecoder=True), 0.05),
    "topk": (dict(arch="topk", k=6), dict(arch="topk", k=6), 0.0),
    "topk-unit-norm": (dict(arch="topk", k=6, unit_norm_decoder=True), dict(arch="topk", k=6, unitNormDecoder=True), 0.0),
    "batchtopk": (dict(arch="batchtopk", k=6), dict(arch="batchtopk", k=6), 0.0),
    "jumprelu": (dict(arch="jumprelu"), dict(arch="jumprelu"), 0.1),
    "weighted-relu": (dict(arch="relu", gamma2=True), dict(arch="relu"), 0.05),
    "matryoshka": (dict(arch="batchtopk", k=6, prefixes=[8, 24, D_SAE]), dict(arch="batchtopk", k=6, prefixes=[8, 24, D_SAE]), 0.0),
    "transcoder-skip": (dict(arch="relu", d_out=12, target=True, skip=True), dict(arch="relu", target=True, skip=True), 0.05),
    "transcoder-jumprelu": (dict(arch="jumprelu", d_out=12, target=True), dict(arch="jumprelu", target=True), 0.1),
    "transcoder-batchtopk": (dict(arch="batchtopk", k=6, d_out=12, target=True), dict(arch="batchtopk", k=6, target=True), 0.0),
    "crosscoder": (dict(arch="relu", norm_groups=2, b_dec_input=False), dict(arch="relu", normGroups=2, bDecInput=False), 0.05),
    "crosscoder-4-sources": (dict(arch="relu", norm_groups=4, b_dec_input=False), dict(arch="relu", normGroups=4, bDecInput=False), 0.05),
    "gated": (dict(arch="gated"), dict(arch="gated"), 0.05),
    "weighted-gated": (dict(arch="gated", gamma2=True), dict(arch="gated"), 0.05),
}


def make_case(name, steps, seed=0):
    kw, drv, lam = CASES[name]
    kw = dict(kw)
    g = torch.Generator().manual_seed(seed)
    d_out = kw.get("d_out", D_IN)
    weighted = kw.pop("gamma2", False)
    gamma2 = (torch.rand(d_out, generator=g) + 0.5) if weighted else None
    cfg = objective_config(d_in=D_IN, d_sae=D_SAE, gamma2=gamma2, **kw)
    w_dec = torch.randn(D_SAE, d_out, generator=g)
    w_dec = w_dec / w_dec.norm(dim=-1, keepdim=True) * (1.0 if cfg.unit_norm_decoder else 0.3)
    w_enc = torch.randn(D_IN, D_SAE, generator=g) * 0.3
    params = {"W_enc": w_enc, "b_enc": torch.randn(D_SAE, generator=g) * 0.1, "W_dec": w_dec, "b_dec": torch.randn(d_out, generator=g) * 0.1}
    if cfg.arch == "jumprelu":
        params["log_threshold"] = torch.full((D_SAE,), 0.3).log()
    if cfg.arch == "gated":
        # a magnitude path away from its initial 0, so that both of its gradients are exercised
        params["b_mag"] = torch.randn(D_SAE, generator=g) * 0.1
        params["r_mag"] = torch.randn(D_SAE, generator=g) * 0.2
    if cfg.skip:
        params["W_skip"] = torch.randn(d_out, D_IN, generator=g) * 0.1
    n_batches = min(steps, 20)
    X = torch.randn(n_batches, B, D_IN, generator=g) * (torch.rand(D_IN, generator=g) * 2 + 0.2)
    data = {**params, "X": X}
    if kw.get("target"):
        M = torch.randn(D_IN, d_out, generator=g) * 0.5
        data["Y"] = X @ M + 0.05 * torch.randn(n_batches, B, d_out, generator=g)
    if gamma2 is not None:
        data["gamma2"] = gamma2
    hyper = dict(lr=1e-3, sparsityCoef=lam, deadTokens=2 * B, steps=steps)
    return cfg, params, data, {**drv, **hyper}


def run_driver(data, config):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
        save_file({k: v.contiguous().float() for k, v in data.items()}, src, metadata={"config": json.dumps(config)})
        r = subprocess.run(["npx", "tsx", "test/unit/train/torchParity.driver.ts", src, dst], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return load_file(dst), read_metadata(dst)


def python_run(cfg, params, data, config):
    state = TrainState(cfg)
    with torch.no_grad():
        for n, t in params.items():
            state.params[n].copy_(t)
    X, Y = data["X"], data.get("Y")
    stats = []
    for s in range(config["steps"]):
        x = X[s % X.shape[0]]
        y = Y[s % X.shape[0]] if Y is not None else x
        stats.append(state.step(x, y, config["lr"], config["sparsityCoef"], config["deadTokens"]))
    return state, stats


def python_grads(cfg, params, data, config):
    p = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    x = data["X"][0]
    y = data["Y"][0] if "Y" in data else x
    dead = torch.zeros(cfg.d_sae, dtype=torch.bool)  # since = 0 < deadTokens at the first step
    parts = loss_parts(cfg, p, x, y, config["sparsityCoef"], dead)
    parts["loss"].backward()
    if cfg.unit_norm_decoder:
        project_decoder_grad(p["W_dec"])
    return {n: t.grad for n, t in p.items()}


def close(a, b, tol, what):
    worst = float((a - b).abs().max())
    assert worst <= tol, f"{what}: differs by {worst:.3g} (tolerance {tol})"


@pytest.mark.parametrize("name", list(CASES))
def test_one_step_equals_our_engine(name):
    cfg, params, data, config = make_case(name, steps=1)
    ts, meta = run_driver(data, config)
    grads = python_grads(cfg, params, data, config)
    for n, g in grads.items():
        close(g, ts[f"grad_{n}"], 1e-5, f"gradient of {n}")
    state, stats = python_run(cfg, params, data, config)
    for n, p in state.params.items():
        close(p.detach(), ts[n], 1e-5, f"{n} after one step")
    want = json.loads(meta["stats"])[0]
    for key in ("loss", "mse", "sparsity", "auxk", "explainedVariance", "l0"):
        assert abs(stats[0][key] - want[key]) <= 1e-5 * max(1.0, abs(want[key])), f"{key}: {stats[0][key]} vs {want[key]}"
    # the parity is not vacuous: the step moved the weights
    assert float((state.params["W_dec"].detach() - params["W_dec"]).abs().max()) > 1e-4


@pytest.mark.parametrize("name", ["relu", "topk", "batchtopk", "jumprelu", "matryoshka", "transcoder-skip", "crosscoder", "gated"])
def test_200_step_curves_agree(name):
    cfg, params, data, config = make_case(name, steps=200, seed=1)
    config["lr"] = 3e-3
    ts, meta = run_driver(data, config)
    state, stats = python_run(cfg, params, data, config)
    want = json.loads(meta["stats"])
    for s, (a, b) in enumerate(zip(stats, want)):
        for key in ("loss", "mse", "explainedVariance", "l0", "auxk"):
            assert abs(a[key] - b[key]) <= 1e-3 * max(1.0, abs(b[key])), f"step {s + 1} {key}: {a[key]} vs {b[key]}"
    if cfg.arch == "batchtopk":
        assert abs(state.threshold - float(meta["threshold"])) <= 1e-3 * max(1.0, abs(state.threshold))
    # aux-k took part (dead latents appear after 2 batches without firing) where the architecture has it
    if cfg.aux_k:
        assert any(s["auxk"] > 0 for s in want)


ORACLE_DRIVER = """
import { computeReconWeights } from './src/train/weighting';
const [gt, d] = process.argv.slice(-2);
process.stdout.write(JSON.stringify(Array.from(computeReconWeights({ weighting: 'oracle', weightAlpha: 0, groundTruth: gt }, new Float32Array(0), 0, Number(d)))));
"""


def test_oracle_weights_equal_our_engine(tmp_path):
    """--weighting oracle: Gamma from the ground truth's mixing matrix (the NNLS of src/train/weighting.ts) is our
    engine's to 1e-5; the weighted step itself is the weighted-relu / weighted-gated cases above."""
    from sae_workbench_train.init import oracle_weights
    g = torch.Generator().manual_seed(3)
    d, n_features = 12, 30
    features = torch.randn(n_features, d, generator=g) * (torch.rand(d, generator=g) + 0.3)
    features[:, 5] *= 3  # a dimension many features share strongly: its weight must come out smaller
    save_file({"features": features}, str(tmp_path / "ground_truth.safetensors"), metadata={"kind": "g1"})
    r = subprocess.run(["npx", "tsx", "-e", ORACLE_DRIVER, str(tmp_path), str(d)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    want = torch.tensor(json.loads(r.stdout))
    got = torch.from_numpy(oracle_weights(str(tmp_path), d))
    close(got, want, 1e-5, "oracle gamma")
    assert abs(float((got ** 2).mean()) - 1) < 1e-5 and float(got.std()) > 0.05  # rescaled, and not uniform
