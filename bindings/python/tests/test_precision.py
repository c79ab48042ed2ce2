"""The opt-in bfloat16 precision (Model.precision).

bfloat16 keeps 8 significant bits, so a product's operands are off by up to
2^-9 relative and a forward pass's outputs by about 1e-3 of their scale; a
wrong weight, gate or step would be off by O(1). The Swift tests check every
gradient against float64; here: the Python surface, that the setting really
changes the arithmetic (outputs differ from float32, within the bfloat16
bound), that it is not saved, and issue 4's criterion on a small char-rnn:
the training loss stays within 1% of float32's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqrnn

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"

needs_bf16 = pytest.mark.skipif(
    not seqrnn.precision_available("bfloat16"), reason="needs AMX-BF16"
)


def test_float32_is_the_default_and_always_available():
    assert seqrnn.precision_available("float32")
    model = seqrnn.Model("gru", input_size=3, hidden_size=8, output_size=2)
    assert model.precision == "float32"


@pytest.mark.parametrize("bad", ["fp16", "", 1, None])
def test_unknown_precisions_are_errors(bad):
    with pytest.raises(seqrnn.InvalidArgumentError, match="precision"):
        seqrnn.precision_available(bad)
    with pytest.raises(seqrnn.InvalidArgumentError, match="precision"):
        seqrnn.Model("gru", input_size=3, hidden_size=8, output_size=2, precision=bad)
    model = seqrnn.Model("gru", input_size=3, hidden_size=8, output_size=2)
    with pytest.raises(seqrnn.InvalidArgumentError, match="precision"):
        model.precision = bad
    assert model.precision == "float32"


@needs_bf16
def test_bfloat16_changes_outputs_within_its_rounding(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 20, 64), dtype=np.float32)
    model = seqrnn.Model(
        "lstm", input_size=64, hidden_size=96, num_layers=2, output_size=5
    )
    exact = model.predict(x)
    model.precision = "bf16"
    assert model.precision == "bfloat16"
    rounded = model.predict(x)
    scale = np.abs(exact).max()
    difference = np.abs(rounded - exact).max()
    assert 0 < difference <= 3e-2 * scale
    # A compute setting, not part of the saved model.
    model.save(tmp_path / "m.safetensors")
    loaded = seqrnn.load(tmp_path / "m.safetensors")
    assert loaded.precision == "float32"
    np.testing.assert_array_equal(loaded.predict(x), exact)
    model.precision = "float32"
    np.testing.assert_array_equal(model.predict(x), exact)


def _corpus() -> str:
    path = DATA / "tinyshakespeare.txt"
    if path.is_file():
        return path.read_text(encoding="utf-8")[:200_000]
    # Any English text works for the comparison; repeat this module's docstring.
    return (__doc__ or "") * 60


def _train(precision: str, x: np.ndarray, y: np.ndarray, vocab: int) -> list[float]:
    model = seqrnn.Model(
        "lstm",
        vocab_size=vocab,
        hidden_size=128,
        num_layers=2,
        output_size=vocab,
        precision=precision,
    )
    losses: list[float] = []
    for start in range(0, x.shape[0], 32):
        history = model.fit(
            x[start : start + 32],
            y[start : start + 32],
            batch_size=32,
            epochs=1,
            verbose=0,
            optimizer="adam",
            lr=2e-3,
            clip_norm=5.0,
            shuffle=False,
        )
        losses.append(history.history["loss"][-1])
    return losses


@needs_bf16
def test_training_loss_stays_within_one_percent_of_float32():
    text = _corpus()
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], dtype=np.int32)
    rng = np.random.default_rng(0)
    starts = rng.integers(0, ids.size - 65, size=32 * 120)
    x = np.stack([ids[s : s + 64] for s in starts])
    y = np.stack([ids[s + 1 : s + 65] for s in starts])
    f32 = _train("float32", x, y, len(chars))
    b16 = _train("bfloat16", x, y, len(chars))
    tail32, tail16 = np.mean(f32[-40:]), np.mean(b16[-40:])
    assert f32[-1] < 0.8 * f32[0]  # it learned something
    assert abs(tail16 - tail32) <= 0.01 * tail32, (tail32, tail16)
