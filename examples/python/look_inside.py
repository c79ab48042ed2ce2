"""A look inside a character-level LSTM: what do its units track?

Trains a character LSTM on a text (tinyshakespeare by default), or loads one
saved by shakespeare_lm.py (--model), records the hidden and cell states of
its top layer over held-out text with Model.record, finds units that follow
something a reader can name -- the position within a line, being inside a
speaker's name ("First Citizen:"), the position within a word -- plus the
most variable one, and draws them with seqrnn.plots:

    look_heatmap.png          hidden states of 32 units over a passage
    look_unit_<feature>.png   one unit's activation over the passage's characters
    look_training.png         training and validation loss per round

    python examples/python/look_inside.py                 # minutes of training
    python examples/python/look_inside.py --quick         # under a minute, ./look_inside_pictures
    python examples/python/look_inside.py --model lm.safetensors --out /tmp/pictures

--model takes a character LSTM saved by --save or by shakespeare_lm.py; its
characters come from --vocab, a JSON file beside it (NAME.chars.json,
NAME.vocab.json or NAME.json), or else sorted(set(corpus)).

Needs matplotlib (pip install matplotlib). Without tinyshakespeare it falls
back to the licence texts in /usr/share/common-licenses.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import seqrnn
from seqrnn import plots

DEFAULT_DATA = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "tinyshakespeare.txt"
)
FALLBACK = Path("/usr/share/common-licenses")
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "images"


def read_text(path: Path | None) -> tuple[str, str]:
    """The corpus and where it came from."""
    if path is not None and path.is_file():
        return path.read_text(encoding="utf-8", errors="replace"), str(path)
    if path is not None and path != DEFAULT_DATA:
        sys.exit(f"look_inside: no such file: {path}")
    files = sorted(p for p in FALLBACK.glob("*") if p.is_file())
    if not files:
        sys.exit("look_inside: no text found; pass --data FILE")
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    return text, f"{FALLBACK}/* (tinyshakespeare not found)"


def vocabulary_for(model_path: Path, vocab: Path | None, text: str) -> list[str]:
    """The characters of a loaded model's token ids: from --vocab (a JSON
    list, or a JSON object with "chars"/"vocabulary"/"itos"), a sidecar file
    next to the model, or else sorted(set(corpus)) as training scripts here
    build it."""
    candidates = [vocab] if vocab else []
    stem = model_path.with_suffix("")
    candidates += [
        Path(str(stem) + suffix) for suffix in (".vocab.json", ".chars.json", ".json")
    ]
    for path in candidates:
        if path is not None and path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                for key in ("chars", "vocabulary", "itos", "alphabet"):
                    if key in data:
                        data = data[key]
                        break
            if isinstance(data, str):
                data = list(data)
            if isinstance(data, list) and all(isinstance(c, str) for c in data):
                return data
    return sorted(set(text))


def windows(ids: np.ndarray, length: int, count: int, rng: np.random.Generator):
    """``count`` random windows: inputs and next-character targets."""
    starts = rng.integers(0, len(ids) - length - 1, size=count)
    x = np.stack([ids[s : s + length] for s in starts])
    y = np.stack([ids[s + 1 : s + length + 1] for s in starts])
    return x, y


def train(args, train_ids, val_ids, vocab_size):
    """Trains args.rounds rounds, each one epoch over fresh random windows
    (a count, not a time budget, so a seed always gives the same model);
    returns the model and the merged per-round history (a dict for
    plots.training_curves)."""
    model = seqrnn.Model(
        "lstm",
        vocab_size=vocab_size,
        input_size=args.embedding,
        hidden_size=args.hidden,
        num_layers=args.layers,
        output_size=vocab_size,
        seed=args.seed,
    )
    rng = np.random.default_rng(args.seed)
    val = windows(val_ids, args.seq_len, args.val_windows, rng)
    history: dict[str, list[float]] = {}
    start = time.perf_counter()
    rounds = 0
    for _ in range(args.rounds):
        x, y = windows(train_ids, args.seq_len, args.round_windows, rng)
        h = model.fit(
            x,
            y,
            epochs=1,
            batch_size=args.batch_size,
            lr=args.lr,
            clip_norm=5.0,
            validation_data=val,
            verbose=0,
            seed=args.seed + rounds,
        )
        for key in ("loss", "val_loss"):
            history.setdefault(key, []).extend(h.history[key])
        rounds += 1
        chars = rounds * args.round_windows * args.seq_len
        print(
            f"round {rounds}: {chars / 1e6:.2f}M chars, loss {history['loss'][-1]:.3f}, "
            f"val_loss {history['val_loss'][-1]:.3f} nats/char, "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
    return model, history


# ---- features a reader can name, per character of a text -------------------


def line_position(text: str) -> np.ndarray:
    """Characters since the last newline."""
    out, col = np.zeros(len(text)), 0
    for i, ch in enumerate(text):
        out[i] = col
        col = 0 if ch == "\n" else col + 1
    return out


def word_position(text: str) -> np.ndarray:
    """Characters since the last non-letter (0 outside words)."""
    out, run = np.zeros(len(text)), 0
    for i, ch in enumerate(text):
        run = run + 1 if ch.isalpha() else 0
        out[i] = run
    return out


def speaker_line(text: str) -> np.ndarray:
    """1 on lines that name a speaker ("First Citizen:"), else 0."""
    out = np.zeros(len(text))
    start = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.endswith(":") and 0 < len(stripped) <= 30:
            out[start : start + len(line)] = 1
        start += len(line) + 1
    return out


FEATURES = {
    "line_position": ("position within the line", line_position),
    "speaker": ("inside a speaker's name", speaker_line),
    "word_position": ("position within a word", word_position),
}


def correlations(states: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson correlation of each unit (column) with the feature."""
    f = feature - feature.mean()
    s = states - states.mean(axis=0)
    denominator = np.sqrt((s**2).sum(axis=0) * (f**2).sum()) + 1e-12
    return (s * f[:, None]).sum(axis=0) / denominator


def passage(text: str, length: int, rng: np.random.Generator) -> str:
    """A stretch of ``length`` characters starting at a line start, preferring
    one that contains a speaker's line."""
    lines = [
        i + 1
        for i, ch in enumerate(text[: len(text) - length - 1])
        if ch == "\n" and text[i + 1] != "\n"
    ]
    if not lines:
        return text[:length]
    for _ in range(200):
        s = int(rng.choice(lines))
        if (
            speaker_line(text[s : s + length]).any()
            and text[s : s + length].count("\n") >= 4
        ):
            return text[s : s + length]
    return text[lines[0] : lines[0] + length]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--model", type=Path, help="a character LSTM saved by shakespeare_lm.py"
    )
    parser.add_argument(
        "--vocab", type=Path, help="its characters (JSON), if not beside it"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where the PNGs go (default docs/images; --quick: ./look_inside_pictures)",
    )
    parser.add_argument("--quick", action="store_true", help="a small model, < 60 s")
    parser.add_argument("--rounds", type=int, help="training rounds (default 24)")
    parser.add_argument("--hidden", type=int, help="units per layer (default 192)")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--embedding", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--round-windows", type=int, default=1600)
    parser.add_argument("--val-windows", type=int, default=200)
    parser.add_argument("--chars", type=int, default=400, help="passage length drawn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--save", type=Path, help="save the trained model (and PATH.chars.json)"
    )
    args = parser.parse_args(argv)
    if args.out is None:  # quick pictures must not replace the committed ones
        args.out = Path("look_inside_pictures") if args.quick else DEFAULT_OUT
    if args.quick:
        args.rounds = args.rounds or 25
        args.hidden = args.hidden or 64
        args.layers = 1
        args.round_windows = 400
        args.val_windows = 50
    args.rounds = args.rounds or 24
    args.hidden = args.hidden or 192
    started = time.perf_counter()

    text, source = read_text(args.data)
    split = int(len(text) * 0.9)
    print(f"data: {source}, {len(text):,} characters (90/10 split)")
    if args.model:
        model = seqrnn.load(args.model)
        chars = vocabulary_for(args.model, args.vocab, text)
        if model.vocab_size != len(chars) or model.cell != "lstm":
            sys.exit(
                f"look_inside: {args.model} is a {model.cell} over {model.vocab_size} tokens, "
                f"but the vocabulary has {len(chars)} characters; pass --vocab"
            )
        # The training history, if the model was saved by this script's --save.
        saved = Path(str(args.model.with_suffix("")) + ".history.json")
        history = json.loads(saved.read_text()) if saved.is_file() else None
        print(f"model: {args.model} ({model.num_layers}x{model.hidden_size} LSTM)")
    else:
        chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index.get(c, 0) for c in text], dtype=np.int32)
    if not args.model:
        print(
            f"training a {args.layers}x{args.hidden} LSTM for {args.rounds} rounds of "
            f"{args.round_windows} windows (vocabulary {len(chars)})"
        )
        model, history = train(args, ids[:split], ids[split:], len(chars))
        if args.save:
            args.save.parent.mkdir(parents=True, exist_ok=True)
            model.save(args.save)
            sidecar = Path(str(args.save.with_suffix("")) + ".chars.json")
            sidecar.write_text(json.dumps({"chars": chars}), encoding="utf-8")
            history_file = Path(str(args.save.with_suffix("")) + ".history.json")
            history_file.write_text(json.dumps(history), encoding="utf-8")
            print(f"saved {args.save}, {sidecar} and {history_file}")

    # Record the top layer over a long held-out stretch to find units, then
    # over a passage to draw them.
    held_out = text[split:]
    rng = np.random.default_rng(args.seed)
    analysis = held_out[: 20_000 if not args.quick else 5_000]
    rec = model.record([[index.get(c, 0) for c in analysis]])
    cell = rec.cell[0]
    units_used: list[int] = []
    chosen = []  # (file stem, title, unit, correlation)
    for key, (label, feature_of) in FEATURES.items():
        feature = feature_of(analysis)
        if feature.std() == 0:
            continue  # the fallback corpus has no speakers
        r = correlations(cell, feature)
        r[units_used] = 0
        unit = int(np.nanargmax(np.abs(r)))
        units_used.append(unit)
        chosen.append((key, label, unit, float(r[unit])))
    spread = cell.std(axis=0)
    spread[units_used] = -1
    unit = int(np.argmax(spread))
    units_used.append(unit)
    chosen.append(("most_variable", "the most variable cell", unit, float("nan")))

    shown = passage(held_out, args.chars, rng)
    rec = model.record([[index.get(c, 0) for c in shown]])
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for key, label, unit, r in chosen:
        path = args.out / f"look_unit_{key}.png"
        # The raw cell state (counters grow past tanh's range), coloured
        # symmetrically around 0 up to its largest magnitude in the passage.
        corr = "" if np.isnan(r) else f" (r = {r:+.2f})"
        plots.text_activation(
            shown,
            rec.cell[0, :, unit],
            path,
            width=72,
            title=f"cell state of unit {unit}: {label}{corr}",
        )
        written.append(path)
        print(
            f"unit {unit:4d}  {label:30s} r = {r:+.2f}"
            if not np.isnan(r)
            else f"unit {unit:4d}  {label}"
        )
    # Heatmap: the chosen units first, then the most variable hidden units.
    variable = np.argsort(-rec.hidden[0].std(axis=0))
    columns = (
        units_used
        + [int(u) for u in variable if u not in units_used][: 32 - len(units_used)]
    )
    steps = min(len(shown), 96)
    path = args.out / "look_heatmap.png"
    plots.heatmap(
        rec.hidden[0][:steps][:, columns],
        path,
        steps=list(shown[:steps]),
        units=columns,
        vmin=-1,
        vmax=1,
        cmap="RdBu_r",
        title=f"top-layer hidden states over the first {steps} characters (chosen units first)",
    )
    written.append(path)
    if history is not None:
        path = args.out / "look_training.png"
        plots.training_curves(
            history,
            path,
            title=f"{model.num_layers}x{model.hidden_size} character LSTM: "
            "training and validation loss (nats/char)",
            xlabel=f"round ({len(history['loss'])} rounds of random windows)",
        )
        written.append(path)
        print(f"final validation loss {history['val_loss'][-1]:.3f} nats/char")
    for path in written:
        print(f"wrote {path}")
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
