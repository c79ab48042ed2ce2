"""The opt-in bfloat16 precision's accuracy check (issue 4: "training loss
within 1% of fp32 on the char-rnn task").

The char-rnn LSTM 2x512 of the training rows (batch 64, 100 steps, Adam 2e-3,
clip 5) is trained on tiny Shakespeare twice from the same initial weights on
the same batches: once in float32, once in bfloat16. The check compares the
mean training loss of the last third of the steps and the loss on held-out
text (the last 10% of the corpus) after training. The text is read from
``../shared/data/tinyshakespeare.txt`` beside the project (``--data``
overrides); without it the check is skipped and says so.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import side_seqrnn
from specs import row_by_name

import seqrnn

#: Relative difference of the training loss the issue allows.
LIMIT = 0.01

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/tinyshakespeare.txt"


def _windows(ids: np.ndarray, count: int, time_steps: int, rng: Any) -> tuple:
    starts = rng.integers(0, ids.size - time_steps - 1, size=count)
    x = np.stack([ids[s : s + time_steps] for s in starts]).astype(np.int32)
    y = np.stack([ids[s + 1 : s + time_steps + 1] for s in starts]).astype(np.int32)
    return x, y


def _train(precision: str, batches: list, held_out: tuple) -> dict[str, Any]:
    row = row_by_name("train-lstm-2x512")
    model = side_seqrnn.build(row)  # seqrnn's own initialisation, seed 0
    model.precision = precision
    trainer = side_seqrnn._trainer(model, lr=2e-3, clip_norm=5.0)
    losses = []
    start = time.perf_counter()
    for x, y in batches:
        losses.append(
            float(
                trainer.step(
                    batch_size=x.shape[0],
                    seq_len=x.shape[1],
                    tokens=x,
                    target_classes=y,
                )
            )
        )
    seconds = time.perf_counter() - start
    # Held-out loss in float32 for both, so only the training differs.
    model.precision = "float32"
    held = model.evaluate(held_out[0], held_out[1], batch_size=64)
    model.close()
    tail = losses[-max(1, len(losses) // 3) :]
    return {
        "precision": precision,
        "losses": losses,
        "tail_mean_loss": statistics.fmean(tail),
        "held_out_loss": float(held["loss"]),
        "seconds": seconds,
    }


def measure(data: Path | None, steps: int) -> dict[str, Any]:
    """Trains both precisions for ``steps`` steps; the report's dict."""
    path = data or DEFAULT_DATA
    if not seqrnn.precision_available("bfloat16"):
        return {"skipped": "this machine cannot run bfloat16 (no AMX-BF16)"}
    if not path.exists():
        return {"skipped": f"no corpus at {path} (give --data)"}
    text = path.read_text(encoding="utf-8")
    chars = sorted(set(text))
    if len(chars) > 65:
        return {"skipped": f"{path} has {len(chars)} distinct characters; needs <= 65"}
    lookup = {c: i for i, c in enumerate(chars)}
    ids = np.fromiter((lookup[c] for c in text), dtype=np.int32, count=len(text))
    split = int(ids.size * 0.9)
    rng = np.random.default_rng(0)
    batches = [_windows(ids[:split], 64, 100, rng) for _ in range(steps)]
    held_out = _windows(ids[split:], 256, 100, np.random.default_rng(1))
    runs = [_train(p, batches, held_out) for p in ("float32", "bfloat16")]
    f32, b16 = runs
    train_diff = (
        abs(b16["tail_mean_loss"] - f32["tail_mean_loss"]) / f32["tail_mean_loss"]
    )
    held_diff = abs(b16["held_out_loss"] - f32["held_out_loss"]) / f32["held_out_loss"]
    return {
        "corpus": str(path),
        "steps": steps,
        "float32": f32,
        "bfloat16": b16,
        "training_loss_relative_difference": train_diff,
        "held_out_loss_relative_difference": held_diff,
        "limit": LIMIT,
        "ok": train_diff <= LIMIT,
    }


def summary(result: dict[str, Any]) -> str:
    """One paragraph for the report."""
    if "skipped" in result:
        return f"bfloat16 loss check skipped: {result['skipped']}."
    f32, b16 = result["float32"], result["bfloat16"]
    return (
        f"bfloat16 loss check (char-rnn LSTM 2x512 on tiny Shakespeare, "
        f"{result['steps']} Adam steps of 64x100 characters from the same weights "
        f"and batches): mean training loss of the last third {f32['tail_mean_loss']:.4f} "
        f"(float32) vs {b16['tail_mean_loss']:.4f} (bfloat16), "
        f"{100 * result['training_loss_relative_difference']:.2f}% apart "
        f"(limit {100 * result['limit']:.0f}%: "
        f"{'met' if result['ok'] else 'NOT MET'}); held-out loss "
        f"{f32['held_out_loss']:.4f} vs {b16['held_out_loss']:.4f} "
        f"({100 * result['held_out_loss_relative_difference']:.2f}%); training took "
        f"{f32['seconds']:.0f} s vs {b16['seconds']:.0f} s."
    )
