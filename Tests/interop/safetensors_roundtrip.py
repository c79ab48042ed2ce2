#!/usr/bin/env python3
"""Interop check of seqrnn's safetensors files against the reference `safetensors` package.

    safetensors_roundtrip.py check FILE [EXPECTED_JSON]
        Loads FILE (written by seqrnn) with safetensors.numpy.load_file and safe_open, checks
        that the file layout follows the format (8-byte aligned header, F32 data), and, when
        EXPECTED_JSON is given ({"tensors": [{"name", "shape", "values"}], "metadata": {..}}),
        that names, order, shapes, values (bit for bit as float32) and metadata match.

    safetensors_roundtrip.py write DIR
        Writes reference files with safetensors.numpy.save_file for seqrnn's decoder to read:
        DIR/reference_f32.safetensors, DIR/reference_f16.safetensors, and
        DIR/reference_expected.json with the values as float32 (F16 values widened exactly).

Exits 0 when every check passes, 1 with a message otherwise. Requires numpy and safetensors.
"""

import json
import struct
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check(path, expected_path=None):
    with open(path, "rb") as f:
        raw = f.read()
    (header_length,) = struct.unpack("<Q", raw[:8])
    if header_length % 8 != 0:
        fail(f"header length {header_length} is not a multiple of 8")
    header = json.loads(raw[8 : 8 + header_length])
    for name, entry in header.items():
        if name != "__metadata__" and entry["dtype"] != "F32":
            fail(f"tensor {name!r} has dtype {entry['dtype']}, expected F32")

    tensors = load_file(path)
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
        keys = list(f.keys())
    if expected_path is None:
        for name in keys:
            print(f"{name}: {tensors[name].dtype} {list(tensors[name].shape)}")
        print(f"metadata: {metadata}")
        print("OK")
        return

    with open(expected_path, encoding="utf-8") as f:
        # parse_int=float keeps the sign of "-0".
        expected = json.load(f, parse_int=float)
    expected_names = [t["name"] for t in expected["tensors"]]
    if sorted(keys) != sorted(expected_names):
        fail(f"names {sorted(keys)} != expected {sorted(expected_names)}")
    # Data order in the file must be seqrnn's tensor order.
    by_offset = sorted(
        (entry["data_offsets"], name)
        for name, entry in header.items()
        if name != "__metadata__"
    )
    if [name for _, name in by_offset] != expected_names:
        fail(f"data order {[n for _, n in by_offset]} != expected {expected_names}")
    for t in expected["tensors"]:
        t["shape"] = [int(d) for d in t["shape"]]
        got = tensors[t["name"]]
        want = (
            np.array(t["values"], dtype=np.float64)
            .astype(np.float32)
            .reshape(t["shape"])
        )
        if got.dtype != np.float32 or list(got.shape) != t["shape"]:
            fail(
                f"{t['name']}: got {got.dtype} {list(got.shape)}, expected float32 {t['shape']}"
            )
        if not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
            fail(f"{t['name']}: values differ: {got.ravel()[:8]} vs {want.ravel()[:8]}")
    if metadata != expected["metadata"]:
        fail(f"metadata {metadata} != expected {expected['metadata']}")
    print(f"OK: {len(keys)} tensors and {len(metadata)} metadata entries match")


def write(directory):
    rng = np.random.default_rng(1234)
    f32 = {
        "rnn.weight_ih_l0": rng.standard_normal((8, 3)).astype(np.float32),
        "rnn.bias_ih_l0": np.array(
            [0.0, -0.0, 1e-45, 3.4028235e38, -1.5, 2.0, 0.1, 7.0], np.float32
        ),
        "head.bias": np.array(42.0, np.float32),
    }
    f16 = {
        "half": np.array(
            [1.0, -2.0, 65504.0, 6e-08, 6.1e-05, 0.333251953125, np.inf, -np.inf],
            np.float16,
        ),
        "half2d": rng.standard_normal((3, 5)).astype(np.float16),
    }
    save_file(
        f32,
        f"{directory}/reference_f32.safetensors",
        metadata={"format": "np", "k": "v"},
    )
    save_file(f16, f"{directory}/reference_f16.safetensors")
    expected = {
        "f32": {
            k: {"shape": list(v.shape), "values": v.astype(np.float64).ravel().tolist()}
            for k, v in f32.items()
        },
        "f16": {
            k: {
                "shape": list(v.shape),
                "values": [
                    x if np.isfinite(x) else str(x)
                    for x in v.astype(np.float64).ravel().tolist()
                ],
            }
            for k, v in f16.items()
        },
        "f32_metadata": {"format": "np", "k": "v"},
    }
    with open(f"{directory}/reference_expected.json", "w", encoding="utf-8") as f:
        json.dump(expected, f)
    print("OK: wrote reference files")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        print(__doc__)
        sys.exit(2)
