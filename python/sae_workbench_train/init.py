"""Initialisation of a run, as src/train/init.ts and the trainer do it (docs/training.md): the activation
scale (SAELens expected_average_only_in), b_dec at the geometric median of a sample, random decoder rows at
a chosen norm with W_enc = W_dec^T, variance weights for weighted SAEs. Sample statistics in float64."""
import numpy as np
import torch


def activation_scale(sample: np.ndarray) -> float:
    """sqrt(d_in) / E||x||, so that scaled rows have mean norm sqrt(d_in)."""
    mean = float(np.linalg.norm(sample.astype(np.float64), axis=1).mean())
    return float(np.sqrt(sample.shape[1]) / mean) if mean > 0 else 1.0


def geometric_median(rows: np.ndarray, max_iter=100, tol=1e-5) -> np.ndarray:
    """Weiszfeld's iteration for the point minimising the summed distances to the rows."""
    x = rows.astype(np.float64)
    y = x.mean(0)
    for _ in range(max_iter):
        w = 1 / np.maximum(np.linalg.norm(x - y, axis=1), 1e-8)
        nxt = (w[:, None] * x).sum(0) / w.sum()
        move = np.linalg.norm(nxt - y)
        y = nxt
        if move <= tol * max(1.0, float(np.linalg.norm(y))):
            break
    return y.astype(np.float32)


def b_dec_start(how: str, rows: np.ndarray) -> np.ndarray:
    """b_dec's starting point from a sample of rows (SAELens b_dec_init_method; b_dec_start in src/train/init.ts)."""
    if how == "geometric_median":
        return geometric_median(rows)
    if how == "mean":
        return rows.astype(np.float64).mean(0).astype(np.float32)
    return np.zeros(rows.shape[1], dtype=np.float32)


def variance_weights(sample: np.ndarray, alpha: float) -> np.ndarray:
    """gamma_i = Var(x_i)^alpha (0 where the variance is 0), rescaled to mean gamma^2 = 1."""
    if sample.shape[0] < 2:
        raise ValueError(f"variance weights need at least 2 rows, got {sample.shape[0]}")
    var = sample.astype(np.float64).var(0, ddof=1)
    gamma = np.where(var > 0, np.power(np.where(var > 0, var, 1.0), alpha), 0.0)
    ms = float((gamma ** 2).mean())
    return (gamma / np.sqrt(ms) if ms > 0 else np.ones_like(gamma)).astype(np.float32)


@torch.no_grad()
def init_weights(p: dict, decoder_norm: float, encoder_norm: float, generator: torch.Generator, uniform: bool = False) -> None:
    """Random decoder rows of norm decoder_norm; W_enc = W_dec^T at encoder_norm when input and target are
    one space, else (transcoders) independent random columns at encoder_norm. With uniform (topk),
    entries uniform before the rows are scaled, as SAELens's Kaiming-uniform W_dec (initWeights in
    src/train/init.ts says why); else Gaussian."""
    d_sae, d_out = p["W_dec"].shape
    d_in = p["W_enc"].shape[0]
    draw = (lambda *shape: torch.rand(*shape, generator=generator) * 2 - 1) if uniform else (lambda *shape: torch.randn(*shape, generator=generator))
    dec = draw(d_sae, d_out)
    dec = dec / dec.norm(dim=-1, keepdim=True) * decoder_norm
    p["W_dec"].copy_(dec)
    if d_in == d_out:
        p["W_enc"].copy_(dec.T * (encoder_norm / decoder_norm))
    else:
        enc = draw(d_sae, d_in)
        p["W_enc"].copy_((enc / enc.norm(dim=-1, keepdim=True) * encoder_norm).T)


GROUND_TRUTH_FILE = "ground_truth.safetensors"


def solve_nnls(h: np.ndarray, rhs: np.ndarray, max_sweeps=10_000, tol=1e-12) -> np.ndarray:
    """min_{g >= 0} 1/2 g^T H g - rhs^T g for symmetric PSD H, by cyclic coordinate descent (solveNnls in
    src/train/weighting.ts: the same sweeps in the same order, so both sides stop at the same iterate)."""
    d = len(rhs)
    g = np.zeros(d)
    grad = -rhs.astype(np.float64)
    for _ in range(max_sweeps):
        max_step = 0.0
        for i in range(d):
            hii = h[i, i]
            if hii <= 0:
                continue
            nxt = max(0.0, g[i] - grad[i] / hii)
            step = nxt - g[i]
            if step == 0:
                continue
            g[i] = nxt
            grad += step * h[:, i]
            max_step = max(max_step, abs(step))
        if max_step <= tol:
            break
    return g


def oracle_weights(path: str, d: int) -> np.ndarray:
    """The oracle weighting (oracleWeights and computeReconWeights in src/train/weighting.ts): with the
    ground truth's mixing W_p [d, F], gamma^2 = argmin_{g >= 0} ||sum_i g_i w_i w_i^T - I||_F^2 (w_i = row i
    of W_p), gamma = sqrt(g) rescaled to mean gamma^2 = 1."""
    import os

    from sae_workbench_common.safetensors_io import load_file

    from .data import DataError
    file = os.path.join(path, GROUND_TRUTH_FILE) if os.path.isdir(path) else path
    if not os.path.exists(file):
        raise DataError(f"{file}: no such ground-truth file")
    try:
        features = load_file(file).get("features")
    except (ValueError, OSError, KeyError) as e:
        raise DataError(f"{file}: not a readable safetensors file ({e})") from None
    if features is None or features.dim() != 2:
        raise DataError(f"{file}: not a ground-truth file: no 2-D tensor 'features' [F, d]")
    if features.shape[1] != d:
        raise DataError(f"{file}: the ground truth's features have d = {features.shape[1]}, the activations d_in = {d}")
    wp = features.to(torch.float32).double().numpy().T  # [d, F]
    h = (wp @ wp.T) ** 2
    rhs = (wp ** 2).sum(1)
    gamma = np.sqrt(solve_nnls(h, rhs)).astype(np.float32)
    ms = float((gamma.astype(np.float64) ** 2).mean())
    if not ms > 0:
        raise DataError(f"{path}: the oracle weights are all zero (the mixing matrix has no usable rows)")
    return (gamma.astype(np.float64) * (1 / np.sqrt(ms))).astype(np.float32)
