"""The memory model (sae_workbench_train/memory.py) against the peak memory of real steps on the CPU, at small
shapes: the extra peak RSS of two steps (the second with aux-k on dead latents) is within 20% of the model."""
import subprocess
import sys

import pytest

from train_helpers import PYTHON_DIR

MEASURE = """
import resource, sys, torch
from sae_workbench_train.objectives import objective_config
from sae_workbench_train.step import TrainState
arch, d, m, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(1)
k = 32 if arch in ('topk', 'batchtopk') else None
x = torch.randn(b, d)
warm = TrainState(objective_config(arch, d, 64, k=k))  # allocator and autograd fixed costs go into the baseline
warm.step(x, x, 1e-3, 0.1, 10**9)
del warm
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
st = TrainState(objective_config(arch, d, m, k=k))
for _ in range(2):
    st.step(x, x, 1e-3, 0.1, b)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base)
"""


@pytest.mark.parametrize("shape", [(256, 8192, 1024), (512, 4096, 2048)])
@pytest.mark.parametrize("arch", ["relu", "topk", "batchtopk", "jumprelu", "gated"])
def test_the_memory_model_matches_measured_steps(arch, shape):
    from sae_workbench_train.memory import run_bytes
    d, m, b = shape
    r = subprocess.run([sys.executable, "-c", MEASURE, arch, str(d), str(m), str(b)], capture_output=True, text=True,
                       env={"PYTHONPATH": PYTHON_DIR, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    measured = int(r.stdout.strip())
    # the model's rows term counts the batch, which the measurement allocated before its baseline
    model = run_bytes(arch, d, m, b, cuda=False) - 4 * b * 2 * d * 4
    assert 0.8 <= measured / model <= 1.2, f"{arch} {shape}: measured {measured / 2**20:.0f} MiB, model {model / 2**20:.0f} MiB"


def test_largest_width_is_the_model_inverted():
    from sae_workbench_train.memory import largest_width, run_bytes
    for arch in ("relu", "topk", "batchtopk", "jumprelu", "gated"):
        for gb in (16, 80):
            w = largest_width(arch, 2304, 4096, gb * 10**9)
            assert w > 0 and run_bytes(arch, 2304, w, 4096) <= 0.9 * gb * 10**9 < run_bytes(arch, 2304, w + 1024, 4096)
