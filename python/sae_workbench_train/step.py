"""One training step and the state it changes: parameters, Adam moments, dead-latent statistics and the
BatchTopK threshold. The Python side of src/train/step.ts + stepEngine.ts (objectives in ./objectives.py).

Adam is written out (beta 0.9, 0.999, eps 1e-8, as torch.optim.Adam and our engine) because resampling
resets the moments of single latents. Under DDP the loss is divided by the whole batch across ranks and
gradients and statistics are summed over ranks, so every rank takes the step one process would take on
the concatenated batch, and parameters, dead-latent counts and the threshold stay identical.
"""
import math

import torch

from .objectives import loss_parts, project_decoder_grad, renormalise_decoder, MIN_POSITIVE

ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8

# parameter name -> which axis indexes latents (for resampling and Adam resets)
LATENT_AXIS = {"W_enc": 1, "b_enc": 0, "W_dec": 0, "log_threshold": 0, "b_mag": 0, "r_mag": 0}


def param_shapes(cfg) -> dict:
    shapes = {"W_enc": (cfg.d_in, cfg.d_sae), "b_enc": (cfg.d_sae,), "W_dec": (cfg.d_sae, cfg.d_out), "b_dec": (cfg.d_out,)}
    if cfg.arch == "jumprelu":
        shapes["log_threshold"] = (cfg.d_sae,)
    if cfg.arch == "gated":
        shapes["b_mag"] = (cfg.d_sae,)
        shapes["r_mag"] = (cfg.d_sae,)
    if cfg.skip:
        shapes["W_skip"] = (cfg.d_out, cfg.d_in)
    return shapes


class Dist:
    """The collective operations a step needs; the single-process default does nothing."""
    world = 1
    rank = 0

    def all_reduce(self, t):  # sums in place
        return t

    def global_cut(self, pos, kb):
        from .objectives import batch_topk_cut
        return batch_topk_cut(pos, kb)

    def broadcast(self, t):
        return t


class TorchDist(Dist):
    """torch.distributed (gloo on CPU, nccl on CUDA) after init_process_group."""

    def __init__(self):
        import torch.distributed as dist
        self.d = dist
        self.world = dist.get_world_size()
        self.rank = dist.get_rank()

    def all_reduce(self, t):
        self.d.all_reduce(t)
        return t

    def global_cut(self, pos, kb):
        # the global (k*B)-th largest lies among each rank's own k*B largest
        flat = pos.reshape(-1)
        local = torch.topk(flat, min(kb, flat.numel()), sorted=False).values
        pad = torch.zeros(kb, dtype=flat.dtype, device=flat.device)
        pad[: local.numel()] = local
        gathered = [torch.empty_like(pad) for _ in range(self.world)]
        self.d.all_gather(gathered, pad)
        allv = torch.cat(gathered)
        if int((allv > 0).sum()) < kb:
            return MIN_POSITIVE
        return float(torch.topk(allv, kb, sorted=False).values.min())

    def broadcast(self, t):
        self.d.broadcast(t, 0)
        return t


class TrainState:
    def __init__(self, cfg, device="cpu"):
        self.cfg = cfg
        self.device = device
        self.params = {n: torch.zeros(s, dtype=torch.float32, device=device, requires_grad=True) for n, s in param_shapes(cfg).items()}
        self.m = {n: torch.zeros_like(p, requires_grad=False) for n, p in self.params.items()}
        self.v = {n: torch.zeros_like(p, requires_grad=False) for n, p in self.params.items()}
        self.t = 0
        self.since = torch.zeros(cfg.d_sae, dtype=torch.float64, device=device)
        self.window_fires = torch.zeros(cfg.d_sae, dtype=torch.float64, device=device)
        self.threshold = 0.0
        self.last = None

    def tensors(self) -> dict:
        """Everything a checkpoint holds of the state (metadata aside)."""
        out = {}
        for n, p in self.params.items():
            out[n] = p.detach()
            out[f"m_{n}"] = self.m[n]
            out[f"v_{n}"] = self.v[n]
        out["tokensSinceFired"] = self.since
        out["windowFires"] = self.window_fires
        return out

    @torch.no_grad()
    def load(self, tensors: dict, where: str) -> None:
        for name, dst in self.tensors().items():
            if name not in tensors:
                raise ValueError(f"{where}: checkpoint has no '{name}'")
            src = tensors[name]
            if tuple(src.shape) != tuple(dst.shape):
                raise ValueError(f"{where}: checkpoint '{name}' has shape {list(src.shape)}, this run needs {list(dst.shape)}")
            dst.copy_(src.to(dst.dtype))

    def step(self, x, y, lr, sparsity_coef, dead_tokens, dist: Dist = None, autocast=None) -> dict:
        """One step on x [B, d_in] and y [B, d_out] (y is x for SAEs). Returns the step's statistics."""
        dist = dist or Dist()
        cfg, p = self.cfg, self.params
        B = x.shape[0]
        n = B * dist.world
        dead = self.since >= dead_tokens if cfg.aux_k else None
        for t in p.values():
            t.grad = None
        cut_of = dist.global_cut if dist.world > 1 else None
        if autocast is not None:
            with autocast():
                parts = loss_parts(cfg, p, x, y, sparsity_coef, dead, global_rows=n, cut_of=cut_of)
        else:
            parts = loss_parts(cfg, p, x, y, sparsity_coef, dead, global_rows=n, cut_of=cut_of)
        parts["loss"].backward()
        if dist.world > 1:
            for t in p.values():
                dist.all_reduce(t.grad)
        if cfg.unit_norm_decoder:
            project_decoder_grad(p["W_dec"])
        self.t += 1
        self._adam(lr)
        if cfg.unit_norm_decoder:
            renormalise_decoder(p["W_dec"])
        # statistics over the whole batch (all ranks)
        s = torch.stack([parts["recon"].detach().double(), parts["sparsity"].detach().double(), parts["auxk"].detach().double(),
                         parts["sse"].double(), parts["sum_y2"], torch.tensor(float(parts["nnz"]), dtype=torch.float64, device=x.device)])
        fired = parts["fired"].to(torch.float64)
        sum_y = parts["sum_y"]
        if dist.world > 1:
            dist.all_reduce(s)
            dist.all_reduce(fired)
            dist.all_reduce(sum_y)
        recon, sparsity, auxk, sse, sum_y2, nnz = (float(v) for v in s)
        if cfg.arch == "batchtopk":
            self.threshold = (1 - cfg.threshold_lr) * self.threshold + cfg.threshold_lr * parts["cut"]
        self.since = torch.where(fired > 0, torch.zeros_like(self.since), self.since + n)
        self.window_fires += fired
        self.last = parts.get("residual_rows")
        sst = sum_y2 - float((sum_y ** 2).sum()) / n
        mse = sse / n
        return {"mse": mse, "sparsity": sparsity, "auxk": auxk, "loss": recon + sparsity + auxk,
                "explainedVariance": 1 - sse / sst if sst > 0 else float("nan"), "l0": nnz / n}

    @torch.no_grad()
    def _adam(self, lr):
        bc1 = 1 - ADAM_BETA1 ** self.t
        bc2 = 1 - ADAM_BETA2 ** self.t
        for name, p in self.params.items():
            g = p.grad
            if g is None:
                continue
            m, v = self.m[name], self.v[name]
            m.mul_(ADAM_BETA1).add_(g, alpha=1 - ADAM_BETA1)
            v.mul_(ADAM_BETA2).addcmul_(g, g, value=1 - ADAM_BETA2)
            denom = v.sqrt().div_(math.sqrt(bc2)).add_(ADAM_EPS)
            p.addcdiv_(m, denom, value=-lr / bc1)

    def dead_fraction(self, dead_tokens) -> float:
        return float((self.since >= dead_tokens).double().mean())
