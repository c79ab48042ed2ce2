"""Anomaly scoring with a language model: corrupted lines of text stand out
by their surprisal (negative log-likelihood per character).

Takes held-out lines of a text, corrupts half of them (swapped neighbouring
characters, random characters, or shuffled words), scores every line by the
mean per-character surprisal under a character LSTM (Model.surprisal), and
reports how well that score ranks corrupted lines above clean ones (ROC AUC,
overall and per kind of corruption).

    python examples/python/anomaly.py --quick          # trains a small LM, < 1 min
    python examples/python/anomaly.py --model shakespeare_lm.safetensors
                                       # the model shakespeare_lm.py saved

Without --model a small LSTM is trained for --minutes on the first 90% of the
text; the lines come from the last 10% either way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import seqrnn
from seqrnn.metrics import roc_auc

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent.parent / "shared" / "data" / "tinyshakespeare.txt"
FALLBACK_DIR = Path("/usr/share/common-licenses")
FALLBACK_NAMES = ("GPL-3", "LGPL-3", "Apache-2.0", "MPL-2.0", "GPL-2", "Artistic")
KINDS = ("swapped characters", "random characters", "shuffled words")


def read_corpus(path: str | None) -> tuple[str, str]:
    """--data, else Tiny Shakespeare beside the repository, else the licence
    texts every Debian system has."""
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


class TimeBudget(seqrnn.Callback):
    """Stops training once the wall-clock deadline has passed."""

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline

    def on_batch_end(self, batch, logs=None):
        if time.monotonic() >= self.deadline:
            self.model.stop_training = True


def train_small_lm(ids: np.ndarray, vocab: int, minutes: float, seed: int):
    """A 1 x 128 LSTM trained on windows of 64 characters for `minutes`."""
    model = seqrnn.Model(
        "lstm", vocab_size=vocab, input_size=32, hidden_size=128, output_size=vocab
    )
    seq_len = 64
    usable = (len(ids) - 1) // seq_len
    x = ids[: usable * seq_len].reshape(usable, seq_len)
    y = ids[1 : usable * seq_len + 1].reshape(usable, seq_len)
    budget = TimeBudget(time.monotonic() + 60 * minutes)
    epochs = 0
    while time.monotonic() < budget.deadline:
        h = model.fit(
            x,
            y,
            batch_size=32,
            lr=4e-3,
            clip_norm=5.0,
            seed=seed + epochs,
            callbacks=[budget],
            verbose=0,
        )
        epochs += 1
        print(
            f"  training epoch {epochs}: loss {h.history['loss'][-1]:.3f}", flush=True
        )
    return model


def corrupt(line: str, kind: str, rng: np.random.Generator, alphabet: list[str]) -> str:
    """One corrupted copy of line; about a fifth of it is changed."""
    chars = list(line)
    n = len(chars)
    if kind == "swapped characters":
        for _ in range(max(1, n // 10)):
            i = int(rng.integers(n - 1))
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    elif kind == "random characters":
        for i in rng.choice(n, size=max(1, n // 5), replace=False):
            chars[i] = alphabet[int(rng.integers(len(alphabet)))]
    else:
        words = line.split(" ")
        if len(words) >= 3:
            rng.shuffle(words)
            return " ".join(words)
        return corrupt(line, "swapped characters", rng, alphabet)
    return "".join(chars)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="a UTF-8 text file (default: Tiny Shakespeare)")
    parser.add_argument("--model", help="a model saved by shakespeare_lm.py")
    parser.add_argument("--minutes", type=float, default=2.0, help="training budget")
    parser.add_argument("--lines", type=int, default=1000, help="held-out lines")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="~30 s (CI check)")
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.lines = min(args.minutes, 0.4), min(args.lines, 400)

    text, source = read_corpus(args.data)
    rng = np.random.default_rng(args.seed)
    split = len(text) * 9 // 10
    print(f"corpus: {source}, {len(text)} characters")
    if args.model:
        model = seqrnn.load(args.model)
        chars = json.loads(Path(args.model + ".vocab.json").read_text())
        print(f"model: {args.model} ({model.count_params()} parameters)")
    else:
        chars = sorted(set(text))
        index = {c: i for i, c in enumerate(chars)}
        train = np.fromiter((index[c] for c in text[:split]), dtype=np.int32)
        if args.quick:
            train = train[:300_000]
        print(f"training a small LSTM for {args.minutes:g} min (no --model given)")
        model = train_small_lm(train, len(chars), args.minutes, args.seed)
    index = {c: i for i, c in enumerate(chars)}

    # Held-out lines long enough to judge, all of whose characters the model
    # knows; half of them get corrupted, each with one kind of corruption.
    lines = [
        s
        for s in text[split:].split("\n")
        if len(s.strip()) >= 20 and all(c in index for c in s)
    ]
    rng.shuffle(lines)
    lines = lines[: args.lines]
    if len(lines) < 10:
        sys.exit(f"only {len(lines)} usable held-out lines")
    alphabet = [c for c in chars if c.isalpha()] or chars
    kinds = [""] * len(lines)
    for i in range(1, len(lines), 2):
        kinds[i] = KINDS[(i // 2) % len(KINDS)]
        lines[i] = corrupt(lines[i], kinds[i], rng, alphabet)
    labels = np.array([k != "" for k in kinds])

    # Surprisal of each character given the line so far, starting after a
    # newline (as lines start in the training text); score = mean per line.
    start = index.get("\n", 0)
    ids = [[index[c] for c in s] for s in lines]
    x = [[start] + s[:-1] for s in ids]
    began = time.monotonic()
    surprisal = model.surprisal(x, ids)
    lengths = np.array([len(s) for s in ids])
    scores = surprisal.sum(axis=1) / lengths
    print(
        f"scored {len(lines)} lines ({lengths.sum()} characters) in "
        f"{time.monotonic() - began:.1f} s; mean surprisal clean "
        f"{scores[~labels].mean():.3f}, corrupted {scores[labels].mean():.3f} nats/char"
    )
    auc = roc_auc(scores, labels)
    for kind in KINDS:
        pick = np.array([k in ("", kind) for k in kinds])
        print(f"  ROC AUC, {kind} vs clean: {roc_auc(scores[pick], labels[pick]):.3f}")
    print(f"ROC AUC: {auc:.4f}")
    print("\nmost surprising lines:")
    for i in np.argsort(-scores)[:3]:
        print(f"  {scores[i]:.2f} [{kinds[i] or 'clean'}] {lines[i]!r}")
    print("least surprising lines:")
    for i in np.argsort(scores)[:3]:
        print(f"  {scores[i]:.2f} [{kinds[i] or 'clean'}] {lines[i]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
