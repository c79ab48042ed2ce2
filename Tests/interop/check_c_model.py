#!/usr/bin/env python3
"""A model saved by the C API is a safetensors file that Python's
`safetensors` package reads (metadata, names, shapes, dtypes, values), and a
file written by `safetensors` with the same metadata loads back in C.

Usage: check_c_model.py PATH/TO/interop_helper
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def value(tensor, k):
    """Same formula as interop_helper.c (exact in float32)."""
    return np.float32(((tensor * 7919 + k * 31) % 257 - 128) / 64.0)


def main():
    helper = sys.argv[1]
    failures = []

    def check(cond, message):
        if not cond:
            failures.append(message)
            print("FAIL:", message)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "from_c.safetensors")
        listing = subprocess.run(
            [helper, "save", path], check=True, capture_output=True, text=True
        ).stdout
        expected = []
        for line in listing.splitlines():
            name, ndim, *dims = line.split()
            expected.append((name, tuple(int(d) for d in dims)))
            check(int(ndim) == len(dims), f"{name}: ndim {ndim} vs {dims}")

        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata()
            keys = list(f.keys())
        print("metadata:", metadata)
        check(isinstance(metadata, dict) and metadata, "no metadata")
        text = json.dumps(metadata)
        check("lstm" in text.lower(), "metadata does not name the cell")
        for key, number in (
            ("hidden_size", 6),
            ("num_layers", 2),
            ("vocab_size", 7),
            ("output_size", 4),
        ):
            check(
                key in text and str(number) in text, f"metadata lacks {key} = {number}"
            )
        check(
            sorted(keys) == sorted(n for n, _ in expected),
            f"tensor names {sorted(keys)} != {sorted(n for n, _ in expected)}",
        )

        tensors = load_file(path)
        for index, (name, shape) in enumerate(expected):
            if name not in tensors:
                continue
            t = tensors[name]
            check(t.dtype == np.float32, f"{name}: dtype {t.dtype}")
            check(t.shape == shape, f"{name}: shape {t.shape}, C says {shape}")
            want = np.array(
                [value(index, k) for k in range(t.size)], dtype=np.float32
            ).reshape(shape)
            check(np.array_equal(t, want), f"{name}: values differ")
        names = [n for n, _ in expected]
        check(
            names[0] == "embedding.weight"
            and names[-2:] == ["head.weight", "head.bias"],
            f"order {names}",
        )
        check(
            tensors.get("rnn.weight_ih_l1_reverse", np.zeros(0)).shape == (24, 12),
            "rnn.weight_ih_l1_reverse is not [4*6, 2*6]",
        )

        # The shared checker (file layout, 8-byte aligned header, data order,
        # bit-exact values), when it is there.
        shared = os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "safetensors_roundtrip.py"
        )
        if os.path.exists(shared):
            spec = {
                "tensors": [
                    {
                        "name": n,
                        "shape": list(shape),
                        "values": [
                            float(value(i, k)) for k in range(int(np.prod(shape)))
                        ],
                    }
                    for i, (n, shape) in enumerate(expected)
                ],
                "metadata": metadata,
            }
            spec_path = os.path.join(tmp, "expected.json")
            with open(spec_path, "w", encoding="utf-8") as f:
                json.dump(spec, f)
            result = subprocess.run(
                [sys.executable, shared, "check", path, spec_path],
                capture_output=True,
                text=True,
            )
            sys.stdout.write(result.stdout)
            check(result.returncode == 0, "safetensors_roundtrip.py check failed")

        # Python writes a file with the same metadata and doubled values;
        # C loads it.
        doubled = {n: (t * 2).astype(np.float32) for n, t in tensors.items()}
        back = os.path.join(tmp, "from_python.safetensors")
        save_file(doubled, back, metadata=metadata)
        result = subprocess.run([helper, "check", back], capture_output=True, text=True)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        check(result.returncode == 0, "C could not load the Python file")

    passed = 0 if failures else 1
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
