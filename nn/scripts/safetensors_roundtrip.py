#!/usr/bin/env python3
"""Interop between tapegrad's checkpoints and the reference `safetensors` library.

    python safetensors_roundtrip.py check DIR      # read the files tapegrad wrote into DIR
    python safetensors_roundtrip.py fixture FILE   # write the file tapegrad's tests read

`check` reads DIR/tapegrad_f32.safetensors and DIR/tapegrad_f64.safetensors (written by
the ignored Rust test `python_interop` in nn/tests/checkpoint.rs) with safetensors.numpy,
and with safetensors.torch when torch is installed, and checks every value bit for bit.
It then saves the same tensors with the reference writer and checks the bytes equal
tapegrad's, header included.

`fixture` writes the small file committed as nn/tests/fixtures/from_python.safetensors:
F32, F64, F16 and BF16 tensors (numpy has no bfloat16, so those bits are given raw),
a scalar, an empty tensor, and one metadata key (one, because the reference writer orders
metadata keys by hash: more would make the bytes differ from run to run).

The easiest way to run both directions is through the Rust test, which writes DIR first:

    TAPEGRAD_PYTHON=/path/to/python cargo test -p tapegrad-nn --test checkpoint \
        -- --ignored --nocapture python_interop

Needs: pip install safetensors numpy (torch optional).
"""

import sys
from pathlib import Path

import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import load_file, save

# What tapegrad's test writes: name -> (numpy dtype, shape, values in row-major order).
# NaNs are given as raw bits so their payloads are checked too.
EXPECTED_F32 = {
    "layer.weight": ((3, 4), np.arange(12, dtype=np.float32) * np.float32(0.25) - np.float32(1.0)),
    "layer.bias": ((5,), np.array([-0.0, np.inf, -np.inf, 1e-45, np.finfo(np.float32).max], dtype=np.float32)),
    "nan": ((2,), np.array([0x7FC00001, 0xFFC00000], dtype=np.uint32).view(np.float32)),
    "scalar": ((), np.array([3.5], dtype=np.float32)),
    "empty": ((0, 5), np.zeros(0, dtype=np.float32)),
}
EXPECTED_F64 = {
    "x": ((2, 2), np.array([0.1, 1.0 / 3.0, -1e300, 5e-324], dtype=np.float64)),
    "nan": ((1,), np.array([0x7FF8000000000001], dtype=np.uint64).view(np.float64)),
}
METADATA = {"f32": {"epoch": "7"}, "f64": None}


def bits(array):
    """The raw bits of a float array, so -0.0 and NaN payloads compare exactly."""
    unsigned = {2: np.uint16, 4: np.uint32, 8: np.uint64}[array.dtype.itemsize]
    return np.ascontiguousarray(array).reshape(-1).view(unsigned)


def check_file(path, expected, dtype, metadata):
    tensors = load_file(path)
    assert sorted(tensors) == sorted(expected), f"{path}: names {sorted(tensors)} != {sorted(expected)}"
    for name, (shape, values) in expected.items():
        got = tensors[name]
        assert got.dtype == dtype, f"{path}: {name} has dtype {got.dtype}, expected {dtype}"
        assert got.shape == shape, f"{path}: {name} has shape {got.shape}, expected {shape}"
        assert np.array_equal(bits(got), bits(values.astype(dtype))), f"{path}: {name} = {got}, expected {values}"
    with safe_open(path, framework="np") as f:
        assert f.metadata() == metadata, f"{path}: metadata {f.metadata()} != {metadata}"

    ours = Path(path).read_bytes()
    theirs = save(tensors, metadata=metadata)
    assert ours == theirs, f"{path}: tapegrad's bytes differ from the reference writer's:\n{ours[:200]}\n{theirs[:200]}"
    print(f"ok   {Path(path).name}: {len(tensors)} tensors match bit for bit; bytes identical to safetensors.numpy.save")

    try:
        import torch
        from safetensors.torch import load_file as torch_load_file
    except ImportError:
        print(f"skip {Path(path).name}: torch is not installed")
        return
    for name, tensor in torch_load_file(path).items():
        assert np.array_equal(bits(tensor.numpy()), bits(tensors[name])), f"{path}: torch reads {name} differently"
    print(f"ok   {Path(path).name}: torch {torch.__version__} reads the same values")


def check(directory):
    directory = Path(directory)
    check_file(directory / "tapegrad_f32.safetensors", EXPECTED_F32, np.float32, METADATA["f32"])
    check_file(directory / "tapegrad_f64.safetensors", EXPECTED_F64, np.float64, METADATA["f64"])


def fixture(path):
    arrays = {
        "f32": np.array([[1.0, -2.5, 0.1], [-0.0, np.inf, 1e-45]], dtype=np.float32),
        "f64": np.array([0.1, 1e-310], dtype=np.float64),
        "f16": np.array([1.0, 65504.0, 2.0**-24, -np.inf, -0.0, 0.333], dtype=np.float16),
        "scalar": np.array(42.0, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        # 1.0, -3.0, +inf and the smallest subnormal (2^-133) as bfloat16 bits.
        "bf16": np.array([0x3F80, 0xC040, 0x7F80, 0x0001], dtype="<u2"),
    }
    specs = {
        name: safetensors.TensorSpec(
            dtype="bfloat16" if name == "bf16" else a.dtype.name,
            shape=a.shape,
            data_ptr=a.ctypes.data,
            data_len=a.nbytes,
        )
        for name, a in arrays.items()
    }
    data = bytes(safetensors.serialize(specs, metadata={"written_by": "safetensors-python"}))
    Path(path).write_bytes(data)
    print(f"ok   wrote {path} ({len(data)} bytes) with safetensors {safetensors.__version__}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "fixture"):
        sys.exit(__doc__)
    {"check": check, "fixture": fixture}[sys.argv[1]](sys.argv[2])
