"""Reading and writing .safetensors with torch alone (the `safetensors` package is used when installed).

The format: 8 bytes little-endian u64 N, then N bytes of JSON header
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, padded with spaces
to a multiple of 8, then the raw little-endian data; offsets are relative to the end of the header.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

try:  # pragma: no cover - depends on the environment
    import safetensors.torch as _st
except ImportError:  # the package is optional
    _st = None

# safetensors dtype name -> (torch dtype, numpy dtype of the raw bytes)
_DTYPES = {
    "F64": (torch.float64, np.float64),
    "F32": (torch.float32, np.float32),
    "F16": (torch.float16, np.float16),
    "BF16": (torch.bfloat16, np.uint16),  # numpy has no bfloat16: the raw 16-bit patterns
    "I64": (torch.int64, np.int64),
    "I32": (torch.int32, np.int32),
    "I16": (torch.int16, np.int16),
    "I8": (torch.int8, np.int8),
    "U8": (torch.uint8, np.uint8),
    "BOOL": (torch.bool, np.bool_),
}
_NAME_OF = {t: name for name, (t, _) in _DTYPES.items()}


def dtype_name(dtype: torch.dtype) -> str:
    """The safetensors name of a torch dtype ("F32", "BF16", ...)."""
    if dtype not in _NAME_OF:
        raise ValueError(f"dtype {dtype} cannot be stored in safetensors by this writer")
    return _NAME_OF[dtype]


def _raw_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().to("cpu").contiguous()
    if t.dtype == torch.bfloat16:
        arr = t.view(torch.int16).numpy()
    else:
        arr = t.numpy()
    if sys.byteorder != "little":
        arr = arr.byteswap()
    return arr.tobytes()


def _atomic_write(path: str, write) -> None:
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_file(tensors: dict, path, metadata: dict = None) -> None:
    """Write `tensors` to `path` atomically (temp file + rename). Metadata values must be strings."""
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise ValueError(f"safetensors metadata must map str to str (bad keys: {bad})")
    if _st is not None:
        contiguous = {k: v.detach().contiguous() for k, v in tensors.items()}
        _atomic_write(path, lambda tmp: _st.save_file(contiguous, tmp, metadata=metadata))
        return

    def write(tmp):
        header = {}
        if metadata:
            header["__metadata__"] = dict(metadata)
        offset = 0
        names = sorted(tensors)
        for name in names:
            t = tensors[name]
            nbytes = t.numel() * t.element_size()
            header[name] = {"dtype": dtype_name(t.dtype), "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
        blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
        blob += b" " * ((8 - len(blob) % 8) % 8)
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(blob)))
            f.write(blob)
            for name in names:
                f.write(_raw_bytes(tensors[name]))
            f.flush()
            os.fsync(f.fileno())

    _atomic_write(path, write)


def read_header(path):
    """(header dict, including "__metadata__" when present; absolute byte offset of the data). Raises ValueError
    naming the file when the header is not a safetensors header."""
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > 100 * 2**20:
            raise ValueError(f"{path}: not a safetensors file (header length {n} exceeds the file)")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: safetensors header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: safetensors header is not a JSON object")
    data_start = 8 + n
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        if e["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {e['dtype']}")
        if data_start + end > size:
            raise ValueError(f"{path}: tensor '{name}' runs past the end of the file (truncated?)")
    return header, data_start


def _entry_array(path, header, data_start, name, mode="r"):
    if name not in header or name == "__metadata__":
        have = ", ".join(k for k in header if k != "__metadata__")
        raise KeyError(f"{path}: no tensor named '{name}' (has: {have})")
    e = header[name]
    _, np_dtype = _DTYPES[e["dtype"]]
    begin, end = e["data_offsets"]
    shape = tuple(e["shape"])
    if end == begin:
        return np.zeros(shape, dtype=np.dtype(np_dtype).newbyteorder("<"))
    return np.memmap(path, dtype=np.dtype(np_dtype).newbyteorder("<"), mode=mode, offset=data_start + begin, shape=shape)


def open_rows(path, name):
    """A read-only memory map of the 2-D tensor `name` ([rows, d]). BF16 comes back as uint16 bit
    patterns (numpy has no bfloat16): convert a slice with `bf16_to_float32`."""
    header, data_start = read_header(path)
    arr = _entry_array(os.fspath(path), header, data_start, name)
    if arr.ndim != 2:
        raise ValueError(f"{path}: tensor '{name}' is {arr.ndim}-D, expected 2-D rows")
    return arr


def bf16_to_float32(bits) -> np.ndarray:
    """float32 values of an array of bfloat16 bit patterns (uint16)."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def load_file(path) -> dict:
    """Every tensor of a .safetensors file, as torch tensors on the CPU."""
    if _st is not None:
        return _st.load_file(os.fspath(path))
    header, data_start = read_header(path)
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        torch_dtype, _ = _DTYPES[e["dtype"]]
        arr = np.array(_entry_array(os.fspath(path), header, data_start, name))
        if torch_dtype == torch.bfloat16:
            t = torch.from_numpy(arr.view(np.int16)).view(torch.bfloat16)
        else:
            t = torch.from_numpy(arr)
        out[name] = t
    return out


def read_metadata(path) -> dict:
    """The "__metadata__" map of a .safetensors file ({} when absent)."""
    header, _ = read_header(path)
    return dict(header.get("__metadata__") or {})
