"""Capture from the toy byte-level transformer: rows equal a direct forward pass, token ids line up."""
import json

import pytest
import torch

from conftest import events, run_capture
from sae_workbench_common.safetensors_io import load_file
from sae_workbench_capture.tokenizers import bytes_to_unicode
import toy_model

BOS = 256


def read_capture(out):
    manifest = json.loads((out / "manifest.json").read_text())
    shards = [load_file(out / s["file"]) for s in manifest["shards"]]
    cat = {k: torch.cat([s[k] for s in shards]) for k in shards[0]}
    return manifest, cat


def direct_site(model, ids, module_path, where="output"):
    """The site's activation from a plain forward pass of one context, with our own hook."""
    seen = {}
    module = model.get_submodule(module_path)
    if where == "output":
        h = module.register_forward_hook(lambda m, i, o: seen.setdefault("v", o[0] if isinstance(o, tuple) else o))
    else:
        h = module.register_forward_pre_hook(lambda m, i: seen.setdefault("v", i[0]))
    with torch.no_grad():
        model(torch.tensor([ids]))
    h.remove()
    return seen["v"][0]


def test_rows_equal_a_direct_forward_pass_at_each_site(tmp_path, corpus):
    path, docs = corpus
    out = tmp_path / "cap"
    proc = run_capture(["--model", "toy_model:make", "--site", "blocks.0", "--site", "blocks.1.mlp:input",
                        "--corpus", str(path), "--out", str(out), "--context-length", "24", "--batch-size", "3",
                        "--shard-rows", "50"])
    ev = events(proc.stdout)
    assert ev[0]["event"] == "start" and ev[-1]["event"] == "done"
    manifest, cat = read_capture(out)
    assert manifest["complete"] and manifest["rows"] == len(cat["token_ids"]) == ev[-1]["rows"]
    assert len(manifest["shards"]) > 1
    assert [s["name"] for s in manifest["sites"]] == ["blocks.0", "blocks.1.mlp:input"]
    assert all(s["d"] == 32 for s in manifest["sites"])
    assert cat["token_ids"].dtype == torch.int32 and cat["doc"].dtype == torch.int64 and cat["pos"].dtype == torch.int32

    model = toy_model.make().eval()
    room = 24 - 1
    checked = 0
    for d, text in enumerate(docs):
        ids = list(text.encode("utf-8"))
        for start in range(0, len(ids), room):
            chunk = ids[start:start + room]
            ref0 = direct_site(model, [BOS] + chunk, "blocks.0")
            ref1 = direct_site(model, [BOS] + chunk, "blocks.1.mlp", "input")
            for j in range(len(chunk)):
                row = ((cat["doc"] == d) & (cat["pos"] == start + j)).nonzero().flatten()
                assert len(row) == 1, (d, start + j)
                r = int(row[0])
                assert int(cat["token_ids"][r]) == chunk[j]
                assert torch.allclose(cat["blocks.0"][r], ref0[1 + j], atol=1e-6, rtol=0)
                assert torch.allclose(cat["blocks.1.mlp:input"][r], ref1[1 + j], atol=1e-6, rtol=0)
                checked += 1
    assert checked == manifest["rows"]


def test_token_ids_rebuild_each_document_in_order(tmp_path, corpus):
    path, docs = corpus
    out = tmp_path / "cap"
    run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(path), "--out", str(out),
                 "--context-length", "16", "--batch-size", "4"])
    manifest, cat = read_capture(out)
    assert manifest["corpus"]["documents"] == len(docs)
    for d, text in enumerate(docs):
        sel = (cat["doc"] == d).nonzero().flatten()
        pos = cat["pos"][sel]
        assert torch.equal(pos, torch.arange(len(sel), dtype=torch.int32))  # contiguous, in order
        assert bytes(cat["token_ids"][sel].tolist()).decode("utf-8") == text


def test_tokenizer_and_w_u_are_saved(tmp_path, corpus):
    path, _ = corpus
    out = tmp_path / "cap"
    run_capture(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(path), "--out", str(out)])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tokenizer"] == "tokenizer.json" and manifest["W_U"] == "W_U.safetensors"
    tok = json.loads((out / "tokenizer.json").read_text())
    table = bytes_to_unicode()
    assert tok["model"]["vocab"][table[ord(" ")]] == ord(" ") and len(tok["model"]["vocab"]) == 256
    assert tok["added_tokens"][0]["id"] == BOS and tok["added_tokens"][0]["special"]
    w_u = load_file(out / "W_U.safetensors")["W_U"]
    assert torch.equal(w_u, toy_model.make().unembed.weight.detach().t())
    assert manifest["model"] == {"name": "toy_model:make", "kind": "module", "class": "ToyTransformer", "dtype": "float32"}


def test_keep_bos_skip_positions_and_max_rows(tmp_path, corpus):
    path, docs = corpus
    out = tmp_path / "cap"
    run_capture(["--model", "toy_model:make", "--site", "blocks.0", "--corpus", str(path), "--out", str(out),
                 "--context-length", "64", "--keep-bos", "--skip-positions", "2", "--max-rows", "40"])
    manifest, cat = read_capture(out)
    assert manifest["rows"] == 40 and manifest["bos"] == {"id": BOS, "kept": True}
    first = (cat["doc"] == 0).nonzero().flatten()
    assert cat["token_ids"][first[0]] == BOS and cat["pos"][first[0]] == -1
    assert cat["pos"][first[1]] == 2  # positions 0 and 1 skipped
    assert cat["token_ids"][first[1]] == docs[0].encode()[2]


@pytest.mark.parametrize("dtype,torch_dtype", [("float16", torch.float16), ("bf16", torch.bfloat16)])
def test_half_precision_storage(tmp_path, corpus, dtype, torch_dtype):
    path, _ = corpus
    ref = tmp_path / "ref"
    run_capture(["--model", "toy_model:make", "--site", "blocks.0", "--corpus", str(path), "--out", str(ref)])
    out = tmp_path / "half"
    run_capture(["--model", "toy_model:make", "--site", "blocks.0", "--corpus", str(path), "--out", str(out), "--dtype", dtype])
    manifest, cat = read_capture(out)
    _, full = read_capture(ref)
    assert manifest["dtype"] == {"bf16": "bfloat16"}.get(dtype, dtype)
    assert cat["blocks.0"].dtype == torch_dtype
    assert torch.equal(cat["blocks.0"], full["blocks.0"].to(torch_dtype))
