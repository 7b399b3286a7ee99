import json
import os
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
PYTHON_ROOT = os.path.dirname(TESTS)
for p in (PYTHON_ROOT, TESTS):
    if p not in sys.path:
        sys.path.insert(0, p)


def capture_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PYTHON_ROOT, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_capture(args, python=None, check=True, cwd=TESTS):
    """Runs `python -m sae_workbench_capture` from the tests folder (so toy_model:make imports)."""
    proc = subprocess.run([python or sys.executable, "-m", "sae_workbench_capture", *args], cwd=cwd,
                          env=capture_env(), capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"capture failed ({proc.returncode}): {proc.stderr}")
    return proc


def events(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def paragraphs(n, seed=0):
    """n short documents with ASCII and multi-byte characters."""
    words = ["alpha", "beta", "gamma", "café", "naïve", "日本", "delta", "zeta", "über", "omega", "the", "a"]
    out = []
    state = seed * 7919 + 17
    for i in range(n):
        length = 3 + (state % 9)
        doc = []
        for _ in range(length):
            state = (state * 1103515245 + 12345) % (2**31)
            doc.append(words[state % len(words)])
        out.append(f"doc {i}: " + " ".join(doc) + ".")
    return out


@pytest.fixture
def corpus(tmp_path):
    docs = paragraphs(12)
    path = tmp_path / "corpus.txt"
    path.write_text("\n\n".join(docs) + "\n", encoding="utf-8")
    return path, docs
