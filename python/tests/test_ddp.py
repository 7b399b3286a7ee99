"""torchrun DDP on CPU (gloo): two processes with half the batch each equal one process with the whole batch
after 50 steps, and a rank killed mid-run leaves a checkpoint that resumes to the uninterrupted result."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from sae_workbench_common.safetensors_io import load_file

from train_helpers import PYTHON_DIR, run_backend, write_acts


@pytest.fixture(scope="module")
def acts(tmp_path_factory):
    d = tmp_path_factory.mktemp("ddp")
    write_acts(d / "acts.npy", rows=8192)
    return d / "acts.npy"


def weights_differ(a_dir, b_dir):
    a, b = load_file(os.path.join(a_dir, "sae_weights.safetensors")), load_file(os.path.join(b_dir, "sae_weights.safetensors"))
    return max(float((a[n] - b[n]).abs().max()) for n in a)


@pytest.mark.parametrize("arch", ["topk", "batchtopk", "relu", "gated"])
def test_two_ranks_equal_one_process_with_the_whole_batch(acts, tmp_path, arch):
    args = ["--activations", acts, "--arch", arch, "--width", 64, "--k", 6, "--batch", 256, "--tokens", 256 * 50, "--lr", 3e-3,
            "--dead-tokens", 512, "--l1", 0.3]
    one = run_backend([*args, "--out", tmp_path / "one"])
    assert one.returncode == 0, one.stderr
    two = run_backend([*args, "--out", tmp_path / "two"], torchrun=2)
    assert two.returncode == 0, two.stderr[-2000:]
    assert weights_differ(tmp_path / "one", tmp_path / "two") <= 1e-5
    summary = json.loads(open(tmp_path / "two" / "training_log.jsonl").read().splitlines()[-1])
    assert summary["world"] == 2 and "DDP x2 (gloo)" in summary["engine"]


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def _rank_of(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        return int(env.get(b"RANK", b"-1"))
    except OSError:
        return -1


def test_a_killed_rank_leaves_a_resumable_checkpoint(acts, tmp_path):
    args = ["--activations", acts, "--arch", "topk", "--width", 64, "--k", 6, "--batch", 256, "--tokens", 256 * 400, "--lr", 3e-3,
            "--dead-tokens", 512, "--checkpoint-every", 10]
    full = run_backend([*args, "--out", tmp_path / "full"], torchrun=2)
    assert full.returncode == 0, full.stderr[-2000:]
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sae_workbench_train.torchrun", "--standalone", "--nproc_per_node", "2", "-m", "sae_workbench_train",
           *map(str, args), "--out", str(out)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env={**os.environ, "PYTHONPATH": PYTHON_DIR, "OMP_NUM_THREADS": "1"})
    killed = False
    for line in p.stdout:
        if line.startswith('{"event":"progress"') and json.loads(line)["progress"]["step"] >= 35:
            rank1 = [c for c in _children(p.pid) if _rank_of(c) == 1]
            assert rank1, "rank 1's process not found"
            os.kill(rank1[0], signal.SIGKILL)
            killed = True
            break
    assert killed
    p.communicate(timeout=300)
    assert p.returncode != 0
    ckpt = out / "checkpoints" / "latest.safetensors"
    assert ckpt.exists()
    time.sleep(0.5)
    resumed = run_backend(["--resume", "--out", out, "--activations", acts], torchrun=2)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert weights_differ(tmp_path / "full", out) <= 1e-5
