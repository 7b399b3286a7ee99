"""Shared by the backend's tests: a small activation file and a runner of `python -m sae_workbench_train`."""
import json
import os
import subprocess
import sys

import numpy as np

PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def write_acts(path, rows=4096, d=16, features=48, seed=0, d_out=None):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(features, d)).astype(np.float32)
    S = (rng.random((rows, features)) < 0.06) * rng.random((rows, features))
    x = (S @ F).astype(np.float32)
    np.save(path, x)
    if d_out:
        M = rng.normal(size=(d, d_out)).astype(np.float32)
        np.save(str(path).replace(".npy", "_target.npy"), (x @ M).astype(np.float32))
    return x


def run_backend(args, python=sys.executable, env=None, torchrun=0, timeout=600):
    cmd = [python, "-m", "sae_workbench_train.torchrun", "--standalone", "--nproc_per_node", str(torchrun), "-m", "sae_workbench_train"] if torchrun else [python, "-m", "sae_workbench_train"]
    e = {**os.environ, "PYTHONPATH": PYTHON_DIR, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=e, timeout=timeout)


def events(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def read_log(folder):
    with open(os.path.join(folder, "training_log.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]
