"""Kill and resume; Ctrl-C; each kind of bad input gives one clear line and exit 2."""
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch

from conftest import TESTS, capture_env, events, paragraphs, run_capture
from test_capture import read_capture


def big_corpus(tmp_path, n=400):
    path = tmp_path / "big.txt"
    path.write_text("\n\n".join(paragraphs(n, seed=3)) + "\n", encoding="utf-8")
    return path


def start(args):
    return subprocess.Popen([sys.executable, "-m", "sae_workbench_capture", *args], cwd=TESTS, env=capture_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_shards(proc, n):
    seen = 0
    for line in proc.stdout:
        if json.loads(line)["event"] == "shard":
            seen += 1
            if seen == n:
                return
    raise AssertionError("capture ended before writing %d shards: %s" % (n, proc.stderr.read()))


def capture_args(corpus, out):
    return ["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(corpus), "--out", str(out),
            "--context-length", "32", "--batch-size", "4", "--shard-rows", "200", "--progress-interval", "0"]


@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_resume_after_stop_has_no_duplicate_or_missing_rows(tmp_path, how):
    corpus = big_corpus(tmp_path)
    whole = tmp_path / "whole"
    run_capture(capture_args(corpus, whole))
    _, ref = read_capture(whole)

    out = tmp_path / "stopped"
    proc = start(capture_args(corpus, out))
    wait_for_shards(proc, 3)
    proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if how == "interrupt":
        assert proc.returncode == 130 and "complete shards are kept" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    partial = json.loads((out / "manifest.json").read_text())
    assert not partial["complete"] and 3 <= len(partial["shards"])
    if how == "interrupt":  # a SIGKILL may land inside a write and leave its temp file, which the resume removes
        assert not [f for f in os.listdir(out) if ".tmp-" in f]
    assert partial["rows"] < len(ref["token_ids"])

    proc = run_capture(capture_args(corpus, out))
    assert events(proc.stdout)[0]["resumed_rows"] == partial["rows"]
    manifest, got = read_capture(out)
    assert manifest["complete"] and manifest["rows"] == len(ref["token_ids"])
    for key in ("blocks.1", "token_ids", "doc", "pos"):
        assert torch.equal(got[key], ref[key]), key
    assert not [f for f in os.listdir(out) if ".tmp-" in f]
    assert sorted(f for f in os.listdir(out) if f.startswith("shard_")) == [s["file"] for s in manifest["shards"]]
    pairs = set(zip(got["doc"].tolist(), got["pos"].tolist()))
    assert len(pairs) == manifest["rows"]  # no (doc, pos) twice


def test_a_complete_capture_is_not_redone_and_other_options_are_refused(tmp_path, corpus):
    path, _ = corpus
    out = tmp_path / "cap"
    run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(path), "--out", str(out)])
    again = run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(path), "--out", str(out)])
    assert events(again.stdout)[-1].get("already_complete") is True
    other = run_capture(["--model", "toy_model:make", "--site", "blocks.0", "--corpus", str(path), "--out", str(out)], check=False)
    assert other.returncode == 2
    assert other.stderr.strip().endswith("holds a capture with other options (sites); use another folder or --overwrite")


def one_line_error(proc):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_wrong_hook_name(tmp_path, corpus):
    path, _ = corpus
    line = one_line_error(run_capture(["--model", "toy_model:make", "--site", "blocks.1.mpl", "--corpus", str(path),
                                       "--out", str(tmp_path / "o")], check=False))
    assert line.startswith("site 'blocks.1.mpl': ToyTransformer has no hook point or module named 'blocks.1.mpl'; did you mean blocks.1.mlp,")
    line = one_line_error(run_capture(["--model", "toy_model:make", "--site", "blocks.1:inptu", "--corpus", str(path),
                                       "--out", str(tmp_path / "o")], check=False))
    assert "must be ':input' or ':output'" in line


def test_missing_module(tmp_path, corpus):
    path, _ = corpus
    line = one_line_error(run_capture(["--model", "no_such_models:make", "--site", "blocks.1", "--corpus", str(path),
                                       "--out", str(tmp_path / "o")], check=False))
    assert line.startswith("model 'no_such_models:make': cannot import module 'no_such_models'")
    line = one_line_error(run_capture(["--model", "toy_model:no_factory", "--site", "blocks.1", "--corpus", str(path),
                                       "--out", str(tmp_path / "o")], check=False))
    assert line == "model 'toy_model:no_factory': module 'toy_model' has no callable 'no_factory'"


def test_a_factory_that_raises(tmp_path, corpus):
    path, _ = corpus
    line = one_line_error(run_capture(["--model", "toy_model:broken", "--site", "blocks.1", "--corpus", str(path),
                                       "--out", str(tmp_path / "o")], check=False))
    assert line == "model 'toy_model:broken': the factory raised RuntimeError: weights file missing"


def test_bad_arguments_are_one_line(tmp_path):
    line = one_line_error(run_capture(["--model", "toy_model:make", "--corpus", "x.txt", "--out", str(tmp_path)], check=False))
    assert line == "python -m sae_workbench_capture: the following arguments are required: --site (see --help)"
    line = one_line_error(run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", "x.txt", "--out", str(tmp_path),
                                       "--dtype", "int8"], check=False))
    assert "argument --dtype: invalid choice: 'int8'" in line


def test_missing_corpus(tmp_path):
    missing = tmp_path / "nowhere" / "corpus.txt"
    line = one_line_error(run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(missing),
                                       "--out", str(tmp_path / "o")], check=False))
    assert line == f"corpus '{missing}' does not exist"


def test_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "fine"}\n{"text": oops}\n', encoding="utf-8")
    line = one_line_error(run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(path),
                                       "--out", str(tmp_path / "o")], check=False))
    assert line.startswith(f"corpus '{path}' line 2: not JSON")


def test_jsonl_corpus(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps({"body": t}) for t in ["one doc", "two docs here"]) + "\n", encoding="utf-8")
    run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(path), "--text-field", "body",
                 "--out", str(tmp_path / "o")])
    manifest, cat = read_capture(tmp_path / "o")
    assert manifest["rows"] == len("one doc") + len("two docs here")
    assert bytes(cat["token_ids"][cat["doc"] == 1].tolist()) == b"two docs here"


def interpreter_without_torch():
    for candidate in [os.environ.get("SAE_WORKBENCH_PYTHON_NO_TORCH"), shutil.which("python3"), shutil.which("python")]:
        if not candidate or os.path.realpath(candidate) == os.path.realpath(sys.executable):
            continue
        probe = subprocess.run([candidate, "-c", "import torch"], capture_output=True)
        if probe.returncode != 0:
            return candidate
    return None


def test_interpreter_without_torch(tmp_path, corpus):
    python = interpreter_without_torch()
    if python is None:
        pytest.skip("no interpreter without torch on PATH (set SAE_WORKBENCH_PYTHON_NO_TORCH to one)")
    path, _ = corpus
    line = one_line_error(run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(path),
                                       "--out", str(tmp_path / "o")], python=python, check=False))
    assert line.startswith("sae_workbench_capture: PyTorch (torch) is not installed for the interpreter")
