"""A character-level LSTM language model on Tiny Shakespeare, with seqrnn.

Trains on the first 90% of the text for a wall-clock budget, reports the
loss on the last 10% (nats and bits per character, perplexity), prints
samples at a few temperatures and with nucleus (top-p) sampling, and saves
the model (plus its vocabulary, for examples/python/anomaly.py).

    python examples/python/shakespeare_lm.py                 # 20 minutes
    python examples/python/shakespeare_lm.py --quick         # < 1 minute
    python examples/python/shakespeare_lm.py --data my.txt --minutes 5

Training: windows of --seq-len characters (each target is the next
character), in rounds of a quarter epoch (a validation report after each),
Adam with gradient-norm clipping; the learning rate decays by --decay per
epoch after --decay-after epochs.
Validation: the held-out text is cut into 32 long pieces and scored with
Model.surprisal, so every character after a piece's first is predicted from
all the text before it in the piece (no window resets inflate the loss).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import seqrnn

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent.parent / "shared" / "data" / "tinyshakespeare.txt"
FALLBACK_DIR = Path("/usr/share/common-licenses")
FALLBACK_NAMES = ("GPL-3", "LGPL-3", "Apache-2.0", "MPL-2.0", "GPL-2", "Artistic")


def read_corpus(path: str | None) -> tuple[str, str]:
    """The text and where it came from: --data, else Tiny Shakespeare beside
    the repository, else the licence texts every Debian system has."""
    if path is not None:
        return Path(path).read_text(encoding="utf-8", errors="replace"), path
    if DEFAULT_DATA.is_file():
        return DEFAULT_DATA.read_text(encoding="utf-8"), str(DEFAULT_DATA)
    parts = [
        (FALLBACK_DIR / n).read_text(encoding="utf-8", errors="replace")
        for n in FALLBACK_NAMES
        if (FALLBACK_DIR / n).is_file()
    ]
    if not parts:
        sys.exit("no --data given and no fallback corpus found")
    return "".join(parts), f"{FALLBACK_DIR} ({len(parts)} licence texts)"


def windows(
    ids: np.ndarray, seq_len: int, offset: int
) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping windows of seq_len inputs and their next characters."""
    usable = (len(ids) - 1 - offset) // seq_len
    x = ids[offset : offset + usable * seq_len].reshape(usable, seq_len)
    y = ids[offset + 1 : offset + 1 + usable * seq_len].reshape(usable, seq_len)
    return x, y


def validation_loss(model: seqrnn.Model, ids: np.ndarray, pieces: int = 32) -> float:
    """Mean next-character loss (nats) over the held-out ids, scored in
    `pieces` long sequences with the state carried through each."""
    length = (len(ids) - 1) // pieces
    x = ids[: pieces * length].reshape(pieces, length)
    y = ids[1 : pieces * length + 1].reshape(pieces, length)
    return float(model.surprisal(x, y).mean(dtype=np.float64))


class TimeBudget(seqrnn.Callback):
    """Counts training batches and stops training once the wall-clock
    deadline has passed."""

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline
        self.batches = 0

    def on_batch_end(self, batch, logs=None):
        self.batches += 1
        if time.monotonic() >= self.deadline:
            self.model.stop_training = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="a UTF-8 text file (default: Tiny Shakespeare)")
    parser.add_argument("--minutes", type=float, default=20.0, help="training budget")
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--embedding", type=int, default=64, help="embedding width")
    parser.add_argument(
        "--dropout", type=float, default=0.2, help="between layers and before the head"
    )
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--decay", type=float, default=0.9, help="lr factor per epoch")
    parser.add_argument(
        "--decay-after", type=int, default=3, help="epochs before decay"
    )
    parser.add_argument("--clip", type=float, default=5.0, help="gradient norm clip")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", default="shakespeare_lm.safetensors")
    parser.add_argument(
        "--quick", action="store_true", help="a small model for ~20 s (CI check)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes = min(args.minutes, 0.33)
        args.hidden, args.layers, args.embedding, args.dropout = 96, 1, 32, 0.0
        args.seq_len, args.batch, args.lr = 64, 32, 5e-3

    text, source = read_corpus(args.data)
    if args.quick:
        text = text[:300_000]
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))
    split = len(ids) * 9 // 10
    train, held_out = ids[:split], ids[split:]
    print(f"seqrnn {seqrnn.__version__}, BLAS: {seqrnn.blas_info()}")
    print(f"corpus: {source}: {len(text)} characters, vocabulary {len(chars)}")
    print(f"train {len(train)} / validation {len(held_out)} characters (90/10)")

    model = seqrnn.Model(
        "lstm",
        vocab_size=len(chars),
        input_size=args.embedding,
        hidden_size=args.hidden,
        num_layers=args.layers,
        output_size=len(chars),
        dropout=args.dropout if args.layers > 1 else 0.0,
        head_dropout=args.dropout,
        seed=args.seed,
    )
    print(
        f"model: LSTM {args.layers} x {args.hidden}, embedding {args.embedding}, "
        f"dropout {args.dropout:g}, "
        f"{model.count_params()} parameters; batch {args.batch} x {args.seq_len}, "
        f"Adam lr {args.lr}, clip {args.clip}, budget {args.minutes:g} min"
    )

    start = time.monotonic()
    deadline = start + 60.0 * args.minutes
    budget = TimeBudget(deadline)
    rng = np.random.default_rng(args.seed)
    # Training goes in rounds of a quarter epoch of shuffled windows; each
    # round continues the same Adam state (fit keeps it while the settings
    # other than lr are unchanged), and is followed by a validation report.
    rounds_per_epoch = 4
    decay = args.decay ** (1 / rounds_per_epoch)
    lr, seen, round_index = args.lr, 0, 0  # seen: characters trained on
    while time.monotonic() < deadline:
        if round_index % rounds_per_epoch == 0:  # new window boundaries
            x, y = windows(train, args.seq_len, int(rng.integers(args.seq_len)))
            order = rng.permutation(len(x))
        part = order[round_index % rounds_per_epoch :: rounds_per_epoch]
        history = model.fit(
            x[part],
            y[part],
            epochs=1,
            batch_size=args.batch,
            lr=lr,
            clip_norm=args.clip,
            shuffle=False,
            callbacks=[budget],
            verbose=0,
        )
        round_index += 1
        seen = budget.batches * args.batch * args.seq_len
        elapsed = time.monotonic() - start
        # A quick look at the first 32k held-out characters (the whole held-out
        # text is scored once at the end).
        val = validation_loss(model, held_out[:32_000])
        print(
            f"epoch {round_index / rounds_per_epoch:5.2f}: train loss "
            f"{history.history.get('loss', [math.nan])[-1]:.3f}, validation (32k) "
            f"{val:.3f} nats/char, "
            f"lr {lr:.2e}, {seen / elapsed:,.0f} characters/s, {elapsed / 60:.1f} min",
            flush=True,
        )
        if round_index >= args.decay_after * rounds_per_epoch:
            lr *= decay
    train_seconds = time.monotonic() - start
    epochs = seen / len(train)

    loss = validation_loss(model, held_out)
    print(
        f"validation: {loss:.4f} nats/char, {loss / math.log(2):.4f} bits/char, "
        f"perplexity {math.exp(loss):.3f} after {train_seconds / 60:.1f} min "
        f"({epochs:.2f} epochs)"
    )
    if not args.quick and source.endswith("tinyshakespeare.txt"):
        met = "met" if loss <= 1.50 else "NOT met"
        print(f"target <= 1.50 nats/char: {met}")

    prime = "ROMEO:\n" if all(c in index for c in "ROMEO:\n") else text[:8]
    prime_ids = [index[c] for c in prime]
    for label, settings in (
        ("temperature 0.5", {"temperature": 0.5}),
        ("temperature 0.8", {"temperature": 0.8}),
        ("temperature 1.0", {"temperature": 1.0}),
        ("top-p 0.9", {"top_p": 0.9}),
    ):
        sample = model.generate(prime_ids, 300, seed=args.seed, **settings)
        print(f"\n--- sample, {label} ---\n{prime}{''.join(chars[i] for i in sample)}")

    if args.save:
        model.save(args.save)
        Path(args.save + ".vocab.json").write_text(json.dumps(chars))
        print(f"\nsaved {args.save} (+ .vocab.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
