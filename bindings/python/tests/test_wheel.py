"""The package as a user gets it: ``pip wheel ./bindings/python`` gives a
wheel that installs into a fresh virtualenv and works from another directory
with no environment variables (the library is found next to the extension).

Slow (about half a minute: a pip build, a virtualenv, numpy installed into
it) but run by default. To keep it fast it packages an already built
library instead of running the Swift build: ``$SEQRNN_LIBRARY`` if set, else
``<repo>/.build/release/libseqrnn.so`` if present (see build_support.py);
only when neither exists does the wheel build run ``swift build`` itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PACKAGE = Path(__file__).resolve().parent.parent  # bindings/python
REPO = PACKAGE.parent.parent

# What runs inside the virtualenv, from a directory outside the repository.
CHECK = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import seqrnn
    from seqrnn import _seqrnn as ext

    model = ext.Model(cell=ext.CELL_LSTM, input_size=3, vocab_size=0,
                      hidden_size=8, num_layers=1, bidirectional=False,
                      output_size=2, output_mode=ext.OUTPUT_SEQUENCE,
                      loss=ext.LOSS_CROSS_ENTROPY, seed=3)
    x = np.linspace(-1, 1, 2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3)
    out = np.empty((2, 5, 2), np.float32)
    model.forward(out, batch_size=2, seq_len=5, features=x)
    with open("/proc/self/maps") as maps:
        libraries = sorted({line.split()[-1] for line in maps
                            if "libseqrnn" in line})
    print(json.dumps({
        "package": seqrnn.__file__,
        "extension": ext.__file__,
        "libraries": libraries,
        "version": ext.version_string(),
        "finite": bool(np.isfinite(out).all()),
        "nonzero": bool(np.abs(out).sum() > 0),
    }))
    """
)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that could point Python or the
    dynamic loader at the repository."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH", "PYTHONHOME")
        and not key.startswith("SEQRNN_")
        and key != "VIRTUAL_ENV"
    }
    env.update(extra)
    return env


def prebuilt_library() -> dict[str, str]:
    given = os.environ.get("SEQRNN_LIBRARY")
    if given:
        return {"SEQRNN_LIBRARY": given}
    built = REPO / ".build" / "release" / "libseqrnn.so"
    if built.is_file():
        return {"SEQRNN_LIBRARY": str(built)}
    return {}  # the wheel build runs `swift build`


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, **kwargs
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def test_wheel_installs_into_a_fresh_virtualenv(tmp_path):
    dist = tmp_path / "dist"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "-w",
            dist,
            PACKAGE,
        ],
        env=clean_env(**prebuilt_library()),
    )
    (wheel,) = dist.glob("seqrnn-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "seqrnn/libseqrnn.so.0" in names
    assert any(n.startswith("seqrnn/_seqrnn.") and n.endswith(".so") for n in names)
    assert "seqrnn/__init__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "src/", "seqrnn/src"))]

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], env=clean_env())
    python = venv / "bin" / "python"
    run(
        [python, "-m", "pip", "install", "--disable-pip-version-check", wheel],
        env=clean_env(),
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run([python, "-c", CHECK], cwd=elsewhere, env=clean_env())
    report = json.loads(result.stdout.strip().splitlines()[-1])
    package_dir = Path(report["package"]).resolve().parent
    assert package_dir.is_relative_to(venv.resolve())
    assert Path(report["extension"]).resolve().parent == package_dir
    # The library in use is the copy beside the extension, nothing else.
    assert [Path(p).resolve() for p in report["libraries"]] == [
        package_dir / "libseqrnn.so.0"
    ]
    assert report["finite"] and report["nonzero"]
