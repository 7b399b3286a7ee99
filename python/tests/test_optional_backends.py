"""Hugging Face and TransformerLens models, tested where those packages are installed."""
import json

import pytest
import torch

from conftest import run_capture
from test_capture import read_capture


def test_huggingface_model_from_a_local_folder(tmp_path, corpus):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed here")
    config = transformers.GPT2Config(vocab_size=257, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=256)
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config).eval()
    folder = tmp_path / "gpt2-tiny"
    model.save_pretrained(folder)
    path, docs = corpus
    out = tmp_path / "cap"
    run_capture(["--model", str(folder), "--tokenizer", "bytes", "--site", "transformer.h.0", "--corpus", str(path),
                 "--out", str(out), "--context-length", "64"])
    manifest, cat = read_capture(out)
    assert manifest["model"]["kind"] == "huggingface" and manifest["W_U"] == "W_U.safetensors"
    ids = [256] + list(docs[0].encode())
    with torch.no_grad():
        ref = model(torch.tensor([ids]), output_hidden_states=True).hidden_states[1][0]
    rows = cat["transformer.h.0"][cat["doc"] == 0]
    assert torch.allclose(rows, ref[1:], atol=1e-5)


def test_transformer_lens_hook_name(tmp_path, corpus):
    pytest.importorskip("transformer_lens", reason="transformer_lens is not installed here")
    (tmp_path / "tl_factory.py").write_text(
        "import torch\n"
        "from transformer_lens import HookedTransformer, HookedTransformerConfig\n"
        "def make():\n"
        "    torch.manual_seed(0)\n"
        "    cfg = HookedTransformerConfig(n_layers=1, d_model=32, n_ctx=64, d_head=8, n_heads=4, d_vocab=257, act_fn='gelu')\n"
        "    return HookedTransformer(cfg)\n")
    import sys
    sys.path.insert(0, str(tmp_path))
    import tl_factory
    path, docs = corpus
    out = tmp_path / "cap"
    proc = run_capture(["--model", "tl_factory:make", "--site", "blocks.0.hook_resid_post", "--corpus", str(path),
                        "--out", str(out), "--context-length", "64"], check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    manifest, cat = read_capture(out)
    model = tl_factory.make()
    _, cache = model.run_with_cache(torch.tensor([[256] + list(docs[0].encode())]))
    ref = cache["blocks.0.hook_resid_post"][0]
    assert torch.allclose(cat["blocks.0.hook_resid_post"][cat["doc"] == 0], ref[1:], atol=1e-5)
    assert json.loads((out / "manifest.json").read_text())["W_U"] == "W_U.safetensors"


def test_parquet_corpus(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed here")
    import pyarrow.parquet as pq
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"body": ["first doc", "second doc here"]}), path)
    out = tmp_path / "cap"
    run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(path), "--text-field", "body", "--out", str(out)])
    manifest, cat = read_capture(out)
    assert manifest["corpus"]["kind"] == "parquet" and manifest["rows"] == len("first doc") + len("second doc here")
    assert bytes(cat["token_ids"][cat["doc"] == 1].tolist()) == b"second doc here"


def test_parquet_without_pyarrow_is_one_line(tmp_path):
    try:
        import pyarrow  # noqa: F401
        pytest.skip("pyarrow is installed here")
    except ImportError:
        pass
    path = tmp_path / "c.parquet"
    path.write_bytes(b"PAR1")
    proc = run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(path), "--out", str(tmp_path / "o")], check=False)
    assert proc.returncode == 2 and proc.stderr.strip() == f"corpus '{path}': reading .parquet needs the pyarrow package, which is not installed"
