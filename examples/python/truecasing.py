"""Truecasing as sequence tagging: restore the capitals of lower-cased text.

Every character of the lower-cased text is a step; the model tags each one
"lower" (0) or "upper" (1) (output="sequence", 2 classes). A bidirectional
LSTM sees the characters on both sides (a speaker's name in capitals ends
in ":", "i" alone is "I"); a unidirectional LSTM with about the same number
of weights sees only the past. Both train on the first 90% of the text and
are scored on the last 10%: the F1 of the "upper" class (seqrnn.metrics).

    python examples/python/truecasing.py            # full run, a few minutes
    python examples/python/truecasing.py --quick    # under a minute (CI)
    python examples/python/truecasing.py --data FILE

The last line is machine-readable: ``RESULT bi_f1=... uni_f1=... seconds=...``.
Without tinyshakespeare it falls back to the licence texts in
/usr/share/common-licenses, and says so.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import seqrnn
from seqrnn.metrics import Metrics

DEFAULT_DATA = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "tinyshakespeare.txt"
)
FALLBACK = Path("/usr/share/common-licenses")


def read_text(path: Path) -> str:
    """The corpus: ``path``, or the licence texts when the default is absent."""
    if path.is_file():
        return path.read_text(encoding="utf-8", errors="replace")
    if path != DEFAULT_DATA:
        sys.exit(f"truecasing: no such file: {path}")
    files = sorted(p for p in FALLBACK.glob("*") if p.is_file())
    if not files:
        sys.exit("truecasing: no text found; pass --data FILE")
    print(f"truecasing: {path} not found; using the texts in {FALLBACK} instead")
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def encode(text: str, alphabet: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Ids of the lower-cased characters (unknown ones -> 0) and the tags:
    1 where the original character is upper case."""
    ids = np.array([alphabet.get(c, 0) for c in text.lower()], dtype=np.int32)
    tags = np.array([c.isupper() for c in text], dtype=np.int32)
    return ids, tags


def chunks(ids: np.ndarray, tags: np.ndarray, length: int) -> tuple[np.ndarray, ...]:
    """Non-overlapping sequences of ``length`` steps (the tail dropped)."""
    n = len(ids) // length * length
    return ids[:n].reshape(-1, length), tags[:n].reshape(-1, length)


def lstm_weights(hidden: int, inputs: int, directions: int) -> int:
    """Weights of one LSTM layer and the 2-class head."""
    layer = 4 * hidden * (inputs + hidden + 2)
    return directions * layer + 2 * directions * hidden + 2


def upper_f1(
    model: seqrnn.Model, x: np.ndarray, y: np.ndarray
) -> tuple[float, float, float]:
    """Precision, recall and F1 of the "upper" class on x, y."""
    with Metrics(2) as metrics:
        metrics.update(model, x, y)
        per_class = metrics.per_class()
    return (
        float(per_class["precision"][1]),
        float(per_class["recall"][1]),
        float(per_class["f1"][1]),
    )


def train(model, x, y, x_val, y_val, args, name):
    """Trains with Adam; keeps the weights of the epoch with the best
    validation macro F1 (early stopping on val_f1)."""
    stop = seqrnn.EarlyStopping(
        monitor="val_f1", patience=args.patience, restore_best_weights=True
    )
    start = time.perf_counter()
    model.fit(
        x,
        y,
        epochs=args.epochs,
        batch_size=args.batch,
        lr=args.lr,
        clip_norm=5.0,
        validation_data=(x_val, y_val),
        callbacks=[stop],
        verbose=2 if args.verbose else 0,
        seed=args.seed,
    )
    seconds = time.perf_counter() - start
    print(f"{name}: trained in {seconds:.0f} s (best epoch {stop.best_epoch + 1})")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true", help="a small run for CI")
    parser.add_argument("--hidden", type=int, default=64, help="units per direction")
    parser.add_argument("--embed", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--max-chars", type=int, default=0, help="0: all")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="a line per epoch")
    args = parser.parse_args()
    if args.quick:
        args.hidden, args.epochs, args.max_chars = 32, 3, 300_000
    seqrnn.set_num_threads(args.threads)
    began = time.perf_counter()

    text = read_text(args.data)
    if args.max_chars:
        text = text[: args.max_chars]
    split = int(len(text) * 0.9)
    train_text, test_text = text[:split], text[split:]
    # The alphabet of the lower-cased training text; id 0 is "unknown".
    alphabet = {c: i + 1 for i, c in enumerate(sorted(set(train_text.lower())))}
    x_all, y_all = chunks(*encode(train_text, alphabet), args.seq_len)
    x_test, y_test = chunks(*encode(test_text, alphabet), args.seq_len)
    # The last 5% of the training chunks choose the epoch (early stopping).
    n_val = max(1, len(x_all) // 20)
    x, y, x_val, y_val = x_all[:-n_val], y_all[:-n_val], x_all[-n_val:], y_all[-n_val:]
    print(
        f"{len(train_text)} training and {len(test_text)} held-out characters; "
        f"{y_all.mean():.1%} of the training characters are upper case"
    )

    # The unidirectional model gets the hidden size that gives it about the
    # bidirectional model's number of weights.
    bi_weights = lstm_weights(args.hidden, args.embed, 2)
    uni_hidden = min(
        range(args.hidden, 4 * args.hidden),
        key=lambda h: abs(lstm_weights(h, args.embed, 1) - bi_weights),
    )
    results = {}
    for name, bidirectional, hidden in (
        ("bidirectional", True, args.hidden),
        ("unidirectional", False, uni_hidden),
    ):
        model = seqrnn.Model(
            "lstm",
            vocab_size=len(alphabet) + 1,
            input_size=args.embed,
            hidden_size=hidden,
            bidirectional=bidirectional,
            output_size=2,
            output="sequence",
            seed=args.seed,
        )
        print(f"{name}: LSTM {hidden} units, {model.count_params()} weights")
        seconds = train(model, x, y, x_val, y_val, args, name)
        precision, recall, f1 = upper_f1(model, x_test, y_test)
        results[name] = f1
        print(
            f"{name}: held-out 'upper' precision {precision:.3f} recall {recall:.3f} "
            f"F1 {f1:.3f} ({seconds:.0f} s)"
        )
        if name == "bidirectional":
            sample = test_text[:300]
            ids, _ = encode(sample, alphabet)
            upper = model.predict(ids[None])[0].argmax(axis=1) == 1
            restored = "".join(
                c.upper() if u else c for c, u in zip(sample.lower(), upper)
            )
            print("restored held-out text:\n" + restored)

    total = time.perf_counter() - began
    ahead = results["bidirectional"] > results["unidirectional"]
    print(
        f"upper-class F1 on held-out text: bidirectional {results['bidirectional']:.3f}, "
        f"unidirectional {results['unidirectional']:.3f} "
        f"({'bidirectional ahead' if ahead else 'unidirectional ahead'}); {total:.0f} s"
    )
    print(
        f"RESULT bi_f1={results['bidirectional']:.4f} "
        f"uni_f1={results['unidirectional']:.4f} seconds={total:.1f}"
    )


if __name__ == "__main__":
    main()
