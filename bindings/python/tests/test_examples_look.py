"""examples/python/look_inside.py --quick runs end to end: it trains a small
character LSTM, writes valid PNGs of its hidden and cell states and its
training curves, saves the model (with its characters and history), and draws the saved
model again through --model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
image_io = pytest.importorskip("matplotlib.image")

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "python" / "look_inside.py"
PICTURES = [
    "look_heatmap.png",
    "look_unit_line_position.png",
    "look_unit_word_position.png",
    "look_unit_most_variable.png",
]


def run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def check_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    pixels = image_io.imread(str(path))
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels[..., :3].std() > 0.05, f"{path.name} is blank"


def test_look_inside_quick(tmp_path):
    out = tmp_path / "images"
    model = tmp_path / "lm.safetensors"
    stdout = run("--out", str(out), "--save", str(model))
    assert "final validation loss" in stdout
    for name in PICTURES + ["look_training.png"]:
        check_png(out / name)
    assert model.is_file() and (tmp_path / "lm.chars.json").is_file()
    assert (tmp_path / "lm.history.json").is_file()

    again = tmp_path / "again"
    stdout = run("--model", str(model), "--out", str(again))
    assert "round" not in stdout  # no training
    for name in PICTURES + ["look_training.png"]:  # curves from lm.history.json
        check_png(again / name)
