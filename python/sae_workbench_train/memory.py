"""How much memory a run needs on its device, computed before anything starts (docs/training.md, "Memory
model of the PyTorch backend"): float32 parameters, their gradients and Adam's two moments (16 bytes per
parameter), plus the batch's dense activations that autograd keeps — a few [B, d_sae] tensors, how many
depends on the architecture — plus the rows themselves and a fixed reserve for the CUDA context."""

# [B, d_sae] float32 tensors alive at the peak of a step (forward saves + backward buffers), per architecture:
# relu: z, f, its mask, dF, dZ; topk: + the scattered codes and aux-k's masked z and codes; batchtopk: + the
# positive part and its mask; jumprelu: + H and the kernel mask; gated: z, the gate path (pre-activation, ReLU,
# mask), the magnitude path (e^r z, its ReLU), f and the auxiliary reconstruction's gradient. Fitted to the
# peak RSS of CPU steps (python/tests/test_memory.py checks it within 20% at two shapes).
DENSE_TENSORS = {"relu": 5, "topk": 6, "batchtopk": 8, "jumprelu": 6, "gated": 8}
CUDA_RESERVE = 768 * 2**20
GiB = 2**30


def run_bytes(arch, d_in, d_sae, batch, d_out=None, skip=False, cuda=True) -> int:
    d_out = d_in if d_out is None else d_out
    params = d_sae * (d_in + d_out) + d_sae * 2 + d_out + (d_out * d_in if skip else 0) + (2 * d_sae if arch == "gated" else 0)  # gated: b_mag, r_mag
    state = 16 * params
    dense = DENSE_TENSORS[arch] * batch * d_sae * 4
    rows = 4 * batch * (d_in + d_out) * 4
    return state + dense + rows + (CUDA_RESERVE if cuda else 0)


def largest_width(arch, d_in, batch, memory_bytes, usable=0.9, step=1024) -> int:
    """The largest multiple of `step` latents whose run fits in `usable` of the device's memory."""
    per_latent = run_bytes(arch, d_in, 1, batch, cuda=False) - run_bytes(arch, d_in, 0, batch, cuda=False)
    fixed = run_bytes(arch, d_in, 0, batch)
    width = int((memory_bytes * usable - fixed) // per_latent)
    return max(0, width // step * step)


def table(d_ins=(768, 2304, 4096), gpus=(16, 24, 40, 80), batch=4096) -> str:
    """The markdown table of docs/training.md: largest width per GPU memory size and architecture."""
    lines = ["| d_in | arch | " + " | ".join(f"{g} GB" for g in gpus) + " |", "|---|---|" + "---|" * len(gpus)]
    for d in d_ins:
        for arch in DENSE_TENSORS:
            cells = [f"{largest_width(arch, d, batch, g * 10**9):,}" for g in gpus]
            lines.append(f"| {d} | {arch} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
