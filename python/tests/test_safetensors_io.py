import json
import struct

import numpy as np
import pytest
import torch

from sae_workbench_common import safetensors_io as st


def test_round_trip_every_dtype_with_metadata(tmp_path):
    path = tmp_path / "t.safetensors"
    tensors = {
        "f32": torch.randn(5, 3),
        "f16": torch.randn(4, 2).half(),
        "bf16": torch.randn(3, 3).bfloat16(),
        "i32": torch.arange(7, dtype=torch.int32),
        "i64": torch.arange(4, dtype=torch.int64) - 2,
        "empty": torch.zeros(0, 4),
    }
    st.save_file(tensors, path, metadata={"model": "toy"})
    back = st.load_file(path)
    assert set(back) == set(tensors)
    for name, t in tensors.items():
        assert back[name].dtype == t.dtype and back[name].shape == t.shape
        assert torch.equal(back[name], t), name
    assert st.read_metadata(path) == {"model": "toy"}
    assert not list(tmp_path.glob("*.tmp-*"))


def test_layout_is_the_safetensors_format(tmp_path):
    path = tmp_path / "t.safetensors"
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    st.save_file({"x": t}, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert header["x"] == {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
    assert np.frombuffer(raw[8 + n:], dtype="<f4").tolist() == [1.0, 2.0, 3.0, 4.0]


def test_open_rows_maps_without_loading_and_bf16_converts(tmp_path):
    path = tmp_path / "t.safetensors"
    rows = torch.randn(10, 4)
    st.save_file({"acts": rows, "acts16": rows.bfloat16()}, path)
    m = st.open_rows(path, "acts")
    assert isinstance(m, np.memmap) and m.shape == (10, 4)
    assert np.array_equal(np.asarray(m[3:5]), rows[3:5].numpy())
    b = st.bf16_to_float32(st.open_rows(path, "acts16"))
    assert np.array_equal(b, rows.bfloat16().float().numpy())
    with pytest.raises(KeyError, match="no tensor named 'nope'"):
        st.open_rows(path, "nope")


def test_truncated_file_is_named(tmp_path):
    path = tmp_path / "t.safetensors"
    st.save_file({"x": torch.randn(100, 8)}, path)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"t\.safetensors: tensor 'x' runs past the end"):
        st.read_header(path)
    path.write_bytes(b"\x05")
    with pytest.raises(ValueError, match="shorter than 8 bytes"):
        st.read_header(path)


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "t.safetensors"
    st.save_file({"x": torch.ones(2)}, path)
    with pytest.raises(ValueError):
        st.save_file({"x": torch.ones(2)}, path, metadata={"n": 3})
    assert torch.equal(st.load_file(path)["x"], torch.ones(2))
