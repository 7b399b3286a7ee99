"""The backend's run end to end: output folder, log schema, exact resume after a cancel, and bad input (one
line on stderr, exit 2, nothing written)."""
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch

from sae_workbench_common.safetensors_io import load_file, save_file
from sae_workbench_train.cli import check_memory
from sae_workbench_train.memory import largest_width, run_bytes

from train_helpers import PYTHON_DIR, events, read_log, run_backend, write_acts

COMMON = ["--width", 64, "--batch", 128, "--lr", 3e-3, "--checkpoint-every", 8, "--seed", 3, "--dead-tokens", 512]


@pytest.fixture(scope="module")
def acts(tmp_path_factory):
    d = tmp_path_factory.mktemp("acts")
    write_acts(d / "acts.npy", d_out=12)
    return d


@pytest.mark.parametrize("arch", ["topk", "relu", "jumprelu", "batchtopk", "gated"])
def test_run_writes_the_saelens_folder_and_log(acts, tmp_path, arch):
    out = tmp_path / "run"
    r = run_backend(["--activations", acts / "acts.npy", "--out", out, "--arch", arch, "--k", 6, "--tokens", 4096, *COMMON,
                     *(["--l1", {"relu": 0.3, "jumprelu": 0.05, "gated": 0.1}[arch]] if arch in ("relu", "jumprelu", "gated") else [])])
    assert r.returncode == 0, r.stderr
    ev = events(r.stdout)
    assert ev[-1]["event"] == "done" and any(e["event"] == "progress" for e in ev)
    cfg = json.load(open(out / "cfg.json"))
    assert cfg["d_in"] == 16 and cfg["d_sae"] == 64
    assert cfg["architecture"] == {"relu": "standard", "batchtopk": "jumprelu"}.get(arch, arch)
    assert cfg["sae_workbench"]["training"]["backend"] == "torch"
    w = load_file(out / "sae_weights.safetensors")
    assert list(w["W_enc"].shape) == [16, 64] and list(w["W_dec"].shape) == [64, 16]
    assert ("threshold" in w) == (arch in ("jumprelu", "batchtopk"))
    # SAELens gated: the gate's bias is b_gate, the magnitude path b_mag and r_mag
    assert ({"b_gate", "b_mag", "r_mag"} <= set(w) and "b_enc" not in w) if arch == "gated" else "b_enc" in w
    assert list(load_file(out / "sparsity.safetensors")["sparsity"].shape) == [64]
    log = read_log(out)
    assert log[0]["type"] == "start" and log[-1]["type"] == "summary"
    steps = [r for r in log if r["type"] == "step"]
    assert steps and {"step", "totalSteps", "tokens", "loss", "explainedVariance", "l0", "deadFraction", "tokensPerSecond", "etaSeconds", "engine"} <= set(steps[-1])
    assert log[-1]["final"]["explainedVariance"] > 0.3


def test_transcoder_saves_the_saelens_transcoder_form(acts, tmp_path):
    out = tmp_path / "tc"
    r = run_backend(["--activations", acts / "acts.npy", "--target", acts / "acts_target.npy", "--out", out, "--arch", "relu", "--skip", "--l1", 0.5, "--tokens", 2048, *COMMON])
    assert r.returncode == 0, r.stderr
    cfg = json.load(open(out / "cfg.json"))
    assert cfg["architecture"] == "skip_transcoder" and cfg["d_out"] == 12
    assert list(load_file(out / "sae_weights.safetensors")["W_skip"].shape) == [12, 16]


def test_cancel_then_resume_ends_with_the_uninterrupted_weights(acts, tmp_path):
    args = ["--activations", acts / "acts.npy", "--arch", "topk", "--k", 6, "--tokens", 128 * 300, "--resample-every", 50, *COMMON]
    full = tmp_path / "full"
    assert run_backend([*args, "--out", full]).returncode == 0
    # cancelled by SIGINT (a checkpoint at the next step, exit 130), then resumed
    part = tmp_path / "part"
    p = subprocess.Popen([sys.executable, "-m", "sae_workbench_train", *map(str, args), "--out", str(part)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env={**os.environ, "PYTHONPATH": PYTHON_DIR, "OMP_NUM_THREADS": "1"})
    for line in p.stdout:
        if '"progress"' in line and json.loads(line)["progress"]["step"] >= 10:
            p.send_signal(signal.SIGINT)
            break
    p.communicate(timeout=120)
    assert p.returncode == 130
    assert os.path.exists(part / "checkpoints" / "latest.safetensors")
    r = run_backend(["--resume", "--out", part, "--activations", acts / "acts.npy"])
    assert r.returncode == 0, r.stderr
    a, b = load_file(full / "sae_weights.safetensors"), load_file(part / "sae_weights.safetensors")
    for name in a:
        assert float((a[name] - b[name]).abs().max()) <= 1e-6, name
    assert any(rec["type"] == "resume" for rec in read_log(part))


def bad(args, tmp_path, **kw):
    out = tmp_path / "never"
    r = run_backend([*map(str, args), "--out", out], **kw)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert not out.exists(), "nothing may be written"
    return lines[0]


def test_bad_input_gets_one_line_and_writes_nothing(acts, tmp_path):
    assert "no such file" in bad(["--activations", tmp_path / "missing.npy", "--width", 8], tmp_path)
    (tmp_path / "junk.npy").write_bytes(b"not an npy")
    assert "junk.npy" in bad(["--activations", tmp_path / "junk.npy", "--width", 8], tmp_path)
    assert "CUDA is not available" in bad(["--activations", acts / "acts.npy", "--width", 8, "--device", "cuda"], tmp_path)
    assert "reduce --width" in bad(["--activations", acts / "acts.npy", "--width", 2**36], tmp_path)
    assert "--k" in bad(["--activations", acts / "acts.npy", "--width", 8, "--k", 9], tmp_path)
    target = acts / "acts_target.npy"
    assert "no gated transcoder form" in bad(["--activations", acts / "acts.npy", "--target", target, "--arch", "gated", "--width", 8], tmp_path)
    assert "crosscoder format is ReLU" in bad(["--activations", acts / "acts.npy", acts / "acts.npy", "--crosscoder", "--arch", "topk", "--width", 8], tmp_path)
    assert "choose one of transcoder" in bad(["--activations", acts / "acts.npy", "--target", target, "--matryoshka-widths", "4", "--width", 8], tmp_path)
    assert "increasing positive integers" in bad(["--activations", acts / "acts.npy", "--matryoshka-widths", "4,2", "--width", 8], tmp_path)
    assert "larger than the width" in bad(["--activations", acts / "acts.npy", "--matryoshka-widths", "4,16", "--width", 8], tmp_path)
    assert "Matryoshka SAEs are BatchTopK" in bad(["--activations", acts / "acts.npy", "--matryoshka-widths", "4", "--arch", "relu", "--width", 8], tmp_path)
    assert "oracle weighting needs" in bad(["--activations", acts / "acts.npy", "--width", 8, "--weighting", "oracle"], tmp_path)
    assert "only used with --weighting oracle" in bad(["--activations", acts / "acts.npy", "--width", 8, "--ground-truth", tmp_path], tmp_path)
    assert "no such ground-truth file" in bad(["--activations", acts / "acts.npy", "--width", 8, "--weighting", "oracle", "--ground-truth", tmp_path], tmp_path)
    gt = tmp_path / "gt.safetensors"
    save_file({"features": torch.randn(20, 7)}, str(gt))
    assert "d = 7, the activations d_in = 16" in bad(["--activations", acts / "acts.npy", "--width", 8, "--weighting", "oracle", "--ground-truth", gt], tmp_path)


def test_a_python_without_torch_is_named(acts, tmp_path):
    # this interpreter as one without torch: a package named torch first on the path that fails to import,
    # as `import torch` fails where it is not installed
    shim = tmp_path / "no-torch"
    (shim / "torch").mkdir(parents=True)
    (shim / "torch" / "__init__.py").write_text('raise ModuleNotFoundError("No module named \'torch\'", name="torch")\n')
    line = bad(["--activations", acts / "acts.npy", "--width", 8], tmp_path, env={"PYTHONPATH": f"{shim}{os.pathsep}{PYTHON_DIR}"})
    assert line == f"{sys.executable}: torch is not installed for this Python (pip install torch, or name an interpreter that has it)"
    plain = shutil.which("python3")
    if plain and subprocess.run([plain, "-c", "import torch"], capture_output=True).returncode != 0:
        assert "torch is not installed" in bad(["--activations", acts / "acts.npy", "--width", 8], tmp_path, python=plain)


def test_a_width_too_large_for_the_gpu_is_refused_end_to_end(acts, tmp_path, monkeypatch, capsys):
    """The whole command on a (pretend) 16 GiB GPU: the width is refused from the memory model before any
    file is written or anything is put on the device."""
    from sae_workbench_train.cli import main

    class Props:
        name = "Test GPU"
        total_memory = 16 * 2**30
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda d: Props)
    out = tmp_path / "never"
    for arch in ("topk", "gated"):
        with pytest.raises(SystemExit) as e:
            main(["--activations", str(acts / "acts.npy"), "--out", str(out), "--arch", arch, "--width", str(1 << 26), "--device", "cuda"])
        assert e.value.code == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and "Test GPU has 16.0 GiB" in lines[0] and "largest width that fits" in lines[0], lines
        assert not out.exists()


def test_a_width_too_large_for_the_gpu_is_refused_before_starting(monkeypatch, capsys):
    class Props:
        name = "Test GPU"
        total_memory = 16 * 2**30
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda d: Props)
    o = {"arch": "topk", "width": 1 << 21, "batch": 4096, "memoryBudget": 0}
    with pytest.raises(SystemExit) as e:
        check_memory(o, torch.device("cuda", 0), 4096, 4096, 1)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Test GPU has 16.0 GiB" in err and "largest width that fits" in err
    fits = largest_width("topk", 4096, 4096, Props.total_memory)
    assert run_bytes("topk", 4096, fits, 4096) <= 0.9 * Props.total_memory < run_bytes("topk", 4096, fits + 1024, 4096)
    check_memory({**o, "width": fits}, torch.device("cuda", 0), 4096, 4096, 1)  # no exit


def test_trains_on_a_capture_site_and_records_model_and_hook(tmp_path, corpus):
    from conftest import run_capture
    path, _ = corpus
    cap = tmp_path / "cap"
    run_capture(["--model", "toy_model:make", "--site", "blocks.0", "--site", "blocks.1", "--corpus", str(path), "--out", str(cap),
                 "--context-length", "24", "--shard-rows", "50"])
    out = tmp_path / "sae"
    r = run_backend(["--activations", f"{cap}#blocks.1", "--out", out, "--arch", "topk", "--width", 32, "--k", 4, "--batch", 32, "--tokens", 320])
    assert r.returncode == 0, r.stderr
    meta = json.load(open(out / "cfg.json"))["metadata"]
    manifest = json.load(open(cap / "manifest.json"))
    assert meta["hook_name"] == "blocks.1" and meta["model_name"] == manifest["model"]["name"]
    assert meta["dataset_path"] == str(cap)
    # several sites and none named: one line naming the capture
    assert "name one" in bad(["--activations", cap, "--width", 8], tmp_path)


def test_crosscoder_saves_the_crosscoder_format(acts, tmp_path):
    assert "the crosscoder format needs one d_in for all sources" in bad(["--activations", acts / "acts.npy", acts / "acts_target.npy", "--crosscoder", "--width", 8], tmp_path)
    assert "at least 2 source files" in bad(["--activations", acts / "acts.npy", "--crosscoder", "--width", 8], tmp_path)
    second = tmp_path / "second.npy"
    write_acts(second, seed=1)
    out = tmp_path / "cc"
    r = run_backend(["--activations", acts / "acts.npy", second, "--crosscoder", "--out", out, "--l1", 0.3, "--tokens", 2048, *COMMON])
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["cc_weights.safetensors", "cfg.json", "checkpoints", "crosscoder_latents.json", "training_log.jsonl"]
    cfg = json.load(open(out / "cfg.json"))
    assert {k: cfg[k] for k in ("d_in", "dict_size", "n_sources", "enc_dtype")} == {"d_in": 16, "dict_size": 64, "n_sources": 2, "enc_dtype": "fp32"}
    assert cfg["sae_workbench"]["training"]["sparsityPenalty"] == "l1_group_decoder_norm_over_sources"
    w = load_file(out / "cc_weights.safetensors")
    assert {k: list(v.shape) for k, v in w.items()} == {"W_enc": [2, 16, 64], "W_dec": [64, 2, 16], "b_enc": [64], "b_dec": [2, 16]}
    summary = events(r.stdout)[-1]["summary"]
    assert summary["kind"] == "crosscoder" and summary["crosscoder"]["latentsFile"] == "crosscoder_latents.json"
    counts = summary["crosscoder"]["relativeNormCounts"]
    assert set(counts) == {"onlyFirst", "onlySecond", "shared"} and sum(counts.values()) <= 64


def test_oracle_weighting_records_its_gamma(acts, tmp_path):
    gt = tmp_path / "synthetic"
    gt.mkdir()
    save_file({"features": torch.randn(48, 16, generator=torch.Generator().manual_seed(0))}, str(gt / "ground_truth.safetensors"))
    out = tmp_path / "oracle"
    r = run_backend(["--activations", acts / "acts.npy", "--out", out, "--arch", "relu", "--l1", 0.3, "--tokens", 2048, "--weighting", "oracle", "--ground-truth", gt, *COMMON])
    assert r.returncode == 0, r.stderr
    training = json.load(open(out / "cfg.json"))["sae_workbench"]["training"]
    from sae_workbench_train.init import oracle_weights
    assert training["reconstructionWeighting"] == {"mode": "oracle", "gamma": pytest.approx(oracle_weights(str(gt), 16).tolist())}
    assert training["lossConvention"] == "weighted_sum_of_squares" and "lambdaE" not in training


def test_matryoshka_saves_its_prefix_widths(acts, tmp_path):
    out = tmp_path / "mat"
    r = run_backend(["--activations", acts / "acts.npy", "--out", out, "--matryoshka-widths", "16,32", "--k", 6, "--tokens", 2048, *COMMON])
    assert r.returncode == 0, r.stderr
    cfg = json.load(open(out / "cfg.json"))
    assert cfg["matryoshka_widths"] == [16, 32, 64] and cfg["architecture"] == "jumprelu"
    assert cfg["sae_workbench"]["training"]["matryoshkaPrefixLosses"] == "sum"
