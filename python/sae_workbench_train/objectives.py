"""The training objectives, in PyTorch: the Python side of src/sae/objectives.ts and src/sae/familyObjective.ts.

One definition per architecture, used by the trainer, the parity test and nothing else. Conventions
(docs/training.md, docs/family.md):

  x' = x - b_dec (only when the input is the target: SAEs, Matryoshka), else x' = x
  z = x' W_enc + b_enc, f = act(z)
  y_hat_p = f[:, :m_p] W_dec[:m_p] + b_dec (+ x W_skip^T)   for every prefix width m_1 < ... < m_P = d_sae
  L = sum_p mean_n ||Gamma (y_hat_p - y)||^2 + sparsity + aux-k

- relu:      sparsity lambda * mean_n sum_i f_i * w_i, w_i = sum_g ||d_i^g|| (A1; G groups: crosscoders), or
             w_i = 1 with the unit-norm decoder (A2).
- topk:      f = ReLU(TopK_k(z)); decoder rows free (unit-norm with unit_norm_decoder).
- batchtopk: the k*B largest ReLU(z) of the batch (ties with the cut kept); unit-norm decoder; the cut
             feeds an EMA threshold (rate 0.01) exported as a JumpReLU threshold.
- jumprelu:  f = z H(z - theta), theta = exp(t); sparsity lambda * mean_n sum_i H(z_i - theta_i); rectangle
             kernel straight-through estimators with bandwidth eps (JumpReluFn, StepFn below).
- gated:     z = x' W_enc (no bias); pi_gate = z + b_gate (stored in b_enc), pi_mag = e^{r_mag} z + b_mag,
             f = 1[pi_gate > 0] ReLU(pi_mag); sparsity lambda * mean_n sum_i ReLU(pi_gate)_i ||d_i||; the
             auxiliary reconstruction mean_n ||Gamma (ReLU(pi_gate) sg(W_dec) + sg(b_dec) - y)||^2 (weight 1) trains
             the gate path only (src/sae/arch/gated.ts, the engine's `gate` mechanism).
- aux-k (topk, batchtopk): the top min(k_aux, #dead) pre-activations of dead latents (no ReLU, no b_dec)
             reconstruct the residual y - y_hat (detached); coefficient 1/32 * min(#dead / k_aux, 1).

Unit-norm decoders: the gradient's component along each decoder row is removed before the optimiser step
and rows are renormalised after it (`project_decoder_grad`, `renormalise_decoder`).
"""
from dataclasses import dataclass, field
from typing import List, Optional

import torch

ARCHS = ("relu", "topk", "batchtopk", "jumprelu", "gated")
# SAELens has a transcoder form of these (the registry's saeLens.transcoder)
TRANSCODER_ARCHS = ("relu", "batchtopk", "jumprelu")
# float32's smallest positive (denormal) value: the BatchTopK cut when fewer than k*B values are positive
MIN_POSITIVE = 5e-324


@dataclass
class ObjectiveConfig:
    arch: str
    d_in: int
    d_sae: int
    d_out: int
    k: int = 0
    unit_norm_decoder: bool = False
    bandwidth: float = 0.05
    aux_k: bool = False
    k_aux: int = 1
    aux_coef: float = 1 / 32
    threshold_lr: float = 0.01
    b_dec_input: bool = True
    target: bool = False
    norm_groups: int = 1
    prefixes: List[int] = field(default_factory=list)
    skip: bool = False
    gamma2: Optional[torch.Tensor] = None


def unit_norm_decoder_of(arch, given) -> bool:
    """Whether an architecture trains unit-norm decoder rows: batchtopk always; relu and topk the caller's
    choice (free by default); the others never (unitNormDecoderOf in src/sae/arch/spec.ts)."""
    return True if arch == "batchtopk" else (bool(given) if arch in ("relu", "topk") else False)


def objective_config(arch, d_in, d_sae, k=None, unit_norm_decoder=False, bandwidth=0.05, aux_k=True, d_out=None,
                     target=False, norm_groups=1, prefixes=None, skip=False, gamma2=None, b_dec_input=None) -> ObjectiveConfig:
    """The same defaults as modelConfig in src/sae/objectives.ts (crosscoders pass b_dec_input=False)."""
    if arch not in ARCHS:
        raise ValueError(f"'{arch}' cannot be trained (trainable: {', '.join(ARCHS)})")
    is_topk = arch in ("topk", "batchtopk")
    d_out = d_in if d_out is None else d_out
    b_dec_input = (not target) if b_dec_input is None else b_dec_input
    if b_dec_input and d_out != d_in:
        raise ValueError(f"b_dec can only be subtracted from the input when d_out = d_in ({d_out} != {d_in})")
    if d_out % norm_groups:
        raise ValueError(f"d_out {d_out} is not a multiple of the {norm_groups} decoder-norm groups")
    prefixes = list(prefixes) if prefixes else [d_sae]
    if prefixes[-1] != d_sae or any(m <= (prefixes[i - 1] if i else 0) for i, m in enumerate(prefixes)):
        raise ValueError(f"prefixes {prefixes} must increase to d_sae {d_sae}")
    return ObjectiveConfig(
        arch=arch, d_in=d_in, d_sae=d_sae, d_out=d_out, k=(k or 32) if is_topk else 0,
        unit_norm_decoder=unit_norm_decoder_of(arch, unit_norm_decoder),
        bandwidth=bandwidth, aux_k=is_topk and aux_k,
        # aux-k's alpha; the gate's auxiliary reconstruction enters with weight 1 (Rajamanoharan et al. 2024)
        aux_coef=1.0 if arch == "gated" else 1 / 32, target=bool(target),
        # half the reconstructed width (d_out for a transcoder)
        k_aux=max(1, min(d_sae, d_out // 2)), b_dec_input=b_dec_input, norm_groups=norm_groups,
        prefixes=prefixes, skip=skip, gamma2=gamma2,
    )


def _kernel(z, theta, eps):
    return ((z - theta).abs() < eps / 2).to(z.dtype)


def _save_gate(ctx, z, log_theta, eps):
    """H(z - theta), keeping what both straight-through backward passes need."""
    theta = log_theta.exp()
    ctx.save_for_backward(z, theta)
    ctx.eps = eps
    return (z > theta).to(z.dtype)


class JumpReluFn(torch.autograd.Function):
    """f = z H(z - theta); df/dz = H, df/dt = -(theta/eps) K theta (t = log theta, the chain rule's theta)."""

    @staticmethod
    def forward(ctx, z, log_theta, eps):
        return z * _save_gate(ctx, z, log_theta, eps)

    @staticmethod
    def backward(ctx, g):
        z, theta = ctx.saved_tensors
        eps = ctx.eps
        dz = g * (z > theta).to(z.dtype)
        dt = (-(theta / eps) * _kernel(z, theta, eps) * g).sum(0) * theta
        return dz, dt, None


class StepFn(torch.autograd.Function):
    """H(z - theta); dH/dz = 0, dH/dt = -(1/eps) K theta."""

    @staticmethod
    def forward(ctx, z, log_theta, eps):
        return _save_gate(ctx, z, log_theta, eps)

    @staticmethod
    def backward(ctx, g):
        z, theta = ctx.saved_tensors
        eps = ctx.eps
        dt = (-(1 / eps) * _kernel(z, theta, eps) * g).sum(0) * theta
        return None, dt, None


def batch_topk_cut(pos: torch.Tensor, kb: int) -> float:
    """The (k*B)-th largest of the positive values (every value >= it is kept), or MIN_POSITIVE when fewer
    than k*B are positive (all positives kept)."""
    flat = pos.reshape(-1)
    n_pos = int((flat > 0).sum())
    if n_pos < kb or kb <= 0:
        return MIN_POSITIVE
    return float(torch.topk(flat, kb, sorted=False).values.min())


def encode(cfg: ObjectiveConfig, p: dict, x: torch.Tensor, cut_of=None, kb=None):
    """(z, f, cut): pre-activations, codes, and the BatchTopK cut (None otherwise). `cut_of(pos, kb)` finds
    the cut over the whole batch across DDP ranks; kb is k times the whole batch's rows."""
    xin = x - p["b_dec"] if cfg.b_dec_input else x
    if cfg.arch == "gated":
        # z without a bias: the gate and magnitude paths add their own (b_gate is b_enc)
        z = xin @ p["W_enc"]
        gate_on = (z + p["b_enc"] > 0).to(z.dtype)
        return z, gate_on * torch.relu(p["r_mag"].exp() * z + p["b_mag"]), None
    z = xin @ p["W_enc"] + p["b_enc"]
    cut = None
    if cfg.arch == "relu":
        f = torch.relu(z)
    elif cfg.arch == "jumprelu":
        f = JumpReluFn.apply(z, p["log_threshold"], cfg.bandwidth)
    elif cfg.arch == "topk":
        vals, idx = torch.topk(z, cfg.k, dim=-1)
        f = torch.zeros_like(z).scatter(-1, idx, torch.relu(vals))
    else:
        pos = torch.relu(z)
        kb = cfg.k * z.shape[0] if kb is None else kb
        cut = (cut_of or batch_topk_cut)(pos.detach(), kb)
        f = pos * (pos >= max(cut, MIN_POSITIVE)).to(z.dtype)
    return z, f, cut


def decoder_weights(cfg: ObjectiveConfig, w_dec: torch.Tensor) -> torch.Tensor:
    """relu's per-latent penalty weight sum_g ||d_i^g|| (A1; crosscoders: one group per source)."""
    g = cfg.norm_groups
    return w_dec.reshape(cfg.d_sae, g, cfg.d_out // g).norm(dim=-1).sum(-1)


def loss_parts(cfg: ObjectiveConfig, p: dict, x: torch.Tensor, y: torch.Tensor, sparsity_coef: float,
               dead: Optional[torch.Tensor] = None, global_rows: Optional[int] = None, cut_of=None) -> dict:
    """Every term of the loss of one batch. x [B, d_in], y [B, d_out] (y is x for SAEs). `dead` is a bool
    mask of dead latents (aux-k). Means are over `global_rows` (the whole batch across DDP ranks, so that
    all-reduced gradients equal one process's) when given, else over B.

    Returns loss (the differentiable total), recon, sparsity, auxk, sse (plain squared error of the full
    reconstruction, summed), sum_y [d_out] and sum_y2 (float64, for the explained variance over the whole
    batch), nnz, fired [d_sae], cut."""
    B = x.shape[0]
    n = global_rows or B
    z, f, cut = encode(cfg, p, x, cut_of, cfg.k * n)
    base = p["b_dec"]
    if cfg.skip:
        base = x @ p["W_skip"].T + p["b_dec"]
    gamma2 = cfg.gamma2
    weighted = gamma2 is not None
    recon = z.new_zeros(())
    y_hat = None
    lo = 0
    partial = base
    for m in cfg.prefixes:
        partial = partial + f[:, lo:m] @ p["W_dec"][lo:m]
        lo = m
        e2 = (partial - y) ** 2
        recon = recon + ((e2 * gamma2).sum() if weighted else e2.sum()) / n
        y_hat = partial
    err = y_hat - y
    sse = (err.detach() ** 2).sum()
    if cfg.arch == "relu":
        w = decoder_weights(cfg, p["W_dec"]) if not cfg.unit_norm_decoder else None
        sparsity = sparsity_coef * ((f * w).sum() if w is not None else f.sum()) / n
    elif cfg.arch == "gated":
        gate = torch.relu(z + p["b_enc"])
        sparsity = sparsity_coef * (gate * decoder_weights(cfg, p["W_dec"])).sum() / n
    elif cfg.arch == "jumprelu":
        sparsity = sparsity_coef * StepFn.apply(z, p["log_threshold"], cfg.bandwidth).sum() / n
    else:
        sparsity = z.new_zeros(())
    auxk = z.new_zeros(())
    n_dead = int(dead.sum()) if (cfg.aux_k and dead is not None) else 0
    if n_dead > 0:
        k_now = min(cfg.k_aux, n_dead)
        zd = z.masked_fill(~dead, float("-inf"))
        vals, idx = torch.topk(zd, k_now, dim=-1)
        f_aux = torch.zeros_like(z).scatter(-1, idx, vals)
        ea = f_aux @ p["W_dec"] + err.detach()
        scale = min(n_dead / cfg.k_aux, 1.0)
        auxk = cfg.aux_coef * scale * (((ea ** 2) * gamma2).sum() if weighted else (ea ** 2).sum()) / n
    if cfg.arch == "gated":
        ea = gate @ p["W_dec"].detach() + p["b_dec"].detach() - y
        auxk = cfg.aux_coef * (((ea ** 2) * gamma2).sum() if weighted else (ea ** 2).sum()) / n
    yd = y.detach().double()
    fired = (f.detach() != 0).sum(0)
    return {
        "loss": recon + sparsity + auxk, "recon": recon, "sparsity": sparsity, "auxk": auxk,
        # what resampling reads: each row's encoder input and its (weighted) residual y - y_hat
        "residual_rows": ((x - p["b_dec"] if cfg.b_dec_input else x).detach(), (-err.detach() * gamma2) if weighted else -err.detach()),
        "sse": sse, "sum_y": yd.sum(0), "sum_y2": (yd ** 2).sum(), "nnz": int(fired.sum()), "fired": fired, "cut": cut,
    }


@torch.no_grad()
def project_decoder_grad(w_dec: torch.Tensor) -> None:
    """Unit-norm decoder: remove each row gradient's component along the row."""
    if w_dec.grad is not None:
        w_dec.grad -= (w_dec.grad * w_dec).sum(-1, keepdim=True) * w_dec


@torch.no_grad()
def renormalise_decoder(w_dec: torch.Tensor) -> None:
    w_dec /= w_dec.norm(dim=-1, keepdim=True).clamp_min(1e-12)
