"""Dead-latent resampling (Bricken et al.; resampleDead in src/train/trainer.ts): each dead latent restarts
toward a row of the last batch drawn with probability proportional to its squared (weighted) residual —
the decoder row along that residual (times the mean live decoder norm unless the decoder is unit-norm),
the encoder column along it too at 0.2 x the mean live encoder norm (transcoders: along the row's input),
b_enc 0 (a Gated SAE's magnitude path b_mag = r_mag = 0, as at initialisation), its Adam moments reset. Under DDP rank 0 draws and the result is broadcast, so ranks stay equal."""
import torch


@torch.no_grad()
def resample_dead(state, dead_tokens, generator, dist) -> int:
    cfg, p = state.cfg, state.params
    dead = (state.since >= dead_tokens).nonzero().flatten()
    if len(dead) == 0 or len(dead) == cfg.d_sae or state.last is None:
        return 0
    xin, resid = state.last
    weights = (resid.double() ** 2).sum(1)
    if not float(weights.sum()) > 0:
        return 0
    live = state.since < dead_tokens
    enc_norm = float(p["W_enc"][:, live].norm(dim=0).mean())
    dec_norm = 1.0 if cfg.unit_norm_decoder else float(p["W_dec"][live].norm(dim=1).mean())
    rows = torch.multinomial(weights.cpu(), len(dead), replacement=True, generator=generator).to(resid.device)
    r = resid[rows]
    r_hat = r / r.norm(dim=1, keepdim=True).clamp_min(1e-12)
    p["W_dec"][dead] = dec_norm * r_hat
    if not cfg.target:
        p["W_enc"][:, dead] = (0.2 * enc_norm * r_hat).T
    else:
        xr = xin[rows]
        p["W_enc"][:, dead] = (0.2 * enc_norm * xr / xr.norm(dim=1, keepdim=True).clamp_min(1e-12)).T
    p["b_enc"][dead] = 0
    for name in ("b_mag", "r_mag"):
        if name in p:
            p[name][dead] = 0
    for name, axis in (("W_dec", 0), ("W_enc", 1), ("b_enc", 0), ("log_threshold", 0), ("b_mag", 0), ("r_mag", 0)):
        if name in p:
            for moments in (state.m, state.v):
                moments[name].index_fill_(axis, dead, 0)
    state.since[dead] = 0
    if dist.world > 1:
        for name in [n for n in ("W_dec", "W_enc", "b_enc", "b_mag", "r_mag") if n in p]:
            dist.broadcast(p[name].data)
            dist.broadcast(state.m[name])
            dist.broadcast(state.v[name])
    return len(dead)
