"""Date normalisation with a character-level encoder-decoder (seqrnn.Seq2Seq).

The example generates dates written in many formats ("3rd of March 1998",
"03/03/98", "March 3, 1998", "1998.3.3", "Tue 3 Mar 1998", ...) and trains a
seq2seq model to rewrite them in ISO form ("1998-03-03"). Dates are drawn from
1950-2049 (so two-digit years are unambiguous: 50-99 -> 19xx, 00-49 -> 20xx);
slashed and dotted numeric dates are day first. The held-out set uses calendar
dates that never occur in training, in any format, so the model must read the
format rather than remember the date.

It trains four configurations, one after another on one thread:
with and without Luong attention, each with pure teacher forcing and with
scheduled sampling (an inverse-sigmoid decay of the teacher-forcing ratio), and
reports held-out exact-match accuracy (greedy, plus beam search for the first)
and the time taken.

    python examples/python/date_normalisation.py            # full run (~10 min per config)
    python examples/python/date_normalisation.py --quick    # < 60 s, for CI
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time

import seqrnn

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def ordinal(d: int) -> str:
    suffix = (
        "th" if 10 <= d % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    )
    return f"{d}{suffix}"


# Each format turns a date into text; the model must recover the ISO form.
FORMATS = [
    lambda x: f"{ordinal(x.day)} of {MONTHS[x.month - 1]} {x.year}",
    lambda x: f"{MONTHS[x.month - 1]} {x.day}, {x.year}",
    lambda x: f"{x.day} {MONTHS[x.month - 1]} {x.year}",
    lambda x: f"{DAYS[x.weekday()][:3]} {x.day} {MONTHS[x.month - 1][:3]} {x.year}",
    lambda x: f"{DAYS[x.weekday()]}, {MONTHS[x.month - 1]} {ordinal(x.day)}, {x.year}",
    lambda x: f"{x.day:02d}/{x.month:02d}/{x.year % 100:02d}",
    lambda x: f"{x.day}/{x.month}/{x.year}",
    lambda x: f"{x.year}.{x.month}.{x.day}",
    lambda x: f"{x.year}-{x.month:02d}-{x.day:02d}",
    lambda x: f"{x.day:02d}.{x.month:02d}.{x.year}",
    lambda x: f"{MONTHS[x.month - 1][:3].lower()} {x.day} {x.year}",
    lambda x: f"{MONTHS[x.month - 1].upper()} {x.day}, {x.year}",
    lambda x: f"{x.year}/{x.month:02d}/{x.day:02d}",
    lambda x: f"{x.day} {MONTHS[x.month - 1][:3]}. '{x.year % 100:02d}",
    lambda x: f"the {ordinal(x.day)} of {MONTHS[x.month - 1].lower()}, {x.year}",
]

FIRST = dt.date(1950, 1, 1)
SPAN = (dt.date(2049, 12, 31) - FIRST).days + 1

SOURCE_CHARS = sorted(
    set(
        "".join(
            f(FIRST + dt.timedelta(days=k)) for f in FORMATS for k in range(0, SPAN, 3)
        )
    )
)
TARGET_CHARS = list("0123456789-")
BOS, EOS = 0, 1  # target ids; characters follow from 2


def encode_source(text: str) -> list[int]:
    return [SOURCE_CHARS.index(c) for c in text]


def encode_target(text: str) -> list[int]:
    return [TARGET_CHARS.index(c) + 2 for c in text]


def decode_target(ids) -> str:
    return "".join(
        TARGET_CHARS[i - 2] if 2 <= i < len(TARGET_CHARS) + 2 else "?" for i in ids
    )


def make_data(train_size: int, test_size: int, seed: int):
    """(train pairs, test pairs); test dates never appear in training."""
    rng = random.Random(seed)
    days = list(range(SPAN))
    rng.shuffle(days)
    test_days, train_days = days[:test_size], days[test_size:]

    def pairs(pool, n):
        out = []
        for _ in range(n):
            date = FIRST + dt.timedelta(days=rng.choice(pool))
            text = rng.choice(FORMATS)(date)
            out.append((text, date.isoformat()))
        return out

    return pairs(train_days, train_size), pairs(test_days, test_size)


def run(config: dict, train, test, args) -> dict:
    sources = [encode_source(s) for s, _ in train]
    targets = [encode_target(t) for _, t in train]
    test_sources = [encode_source(s) for s, _ in test]
    test_targets = [encode_target(t) for _, t in test]
    steps_per_epoch = -(-len(train) // args.batch_size)
    sampling = {}
    if config["sampling"]:
        # Inverse sigmoid (Bengio et al. 2015): k / (k + exp(i / k)) over steps i,
        # floored at 0.5, with k set so the ratio is ~0.5 after ~60% of training.
        total = steps_per_epoch * args.epochs
        k = max(1.0, total / 14.0)
        sampling = dict(sampling="inverse_sigmoid", sampling_decay=k, sampling_end=0.5)
    model = seqrnn.Seq2Seq(
        len(SOURCE_CHARS),
        len(TARGET_CHARS) + 2,
        cell="lstm",
        hidden_size=args.hidden,
        embedding_size=32,
        attention=config["attention"],
        bos_id=BOS,
        eos_id=EOS,
        seed=1,
        lr=args.lr,
        clip_norm=5.0,
        train_seed=2,
        **sampling,
    )
    start = time.perf_counter()
    history = model.fit(
        sources,
        targets,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )
    train_time = time.perf_counter() - start
    start = time.perf_counter()
    greedy = model.exact_match(test_sources, test_targets, max_length=12)
    result = {
        "name": config["name"],
        "loss": history["loss"][-1],
        "exact_match": greedy,
        "train_seconds": train_time,
        "ratio_end": model.teacher_forcing_ratio(),
    }
    if config.get("beam"):
        result["beam_exact_match"] = model.exact_match(
            test_sources, test_targets, beam_width=4, max_length=12
        )
    result["eval_seconds"] = time.perf_counter() - start
    examples = model.translate(test_sources[:4], max_length=12)
    result["examples"] = [
        (s, decode_target(d)) for (s, _), d in zip(test[:4], examples)
    ]
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and fast (CI)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--only", help="run only configurations whose name contains this"
    )
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = args.epochs or 4
        args.train_size = args.train_size or 4000
        args.hidden = args.hidden or 64
        args.test_size = min(args.test_size, 300)
    else:
        args.epochs = args.epochs or 12
        args.train_size = args.train_size or 30000
        args.hidden = args.hidden or 128
    seqrnn.set_num_threads(args.threads)
    train, test = make_data(args.train_size, args.test_size, seed=0)
    print(
        f"date normalisation: {len(train)} training pairs, {len(test)} held-out pairs "
        f"(dates unseen in training), {len(FORMATS)} formats, "
        f"{len(SOURCE_CHARS)} source chars; LSTM {args.hidden}, {args.epochs} epochs, "
        f"{args.threads} thread(s)"
    )
    configs = [
        {
            "name": "attention (general)",
            "attention": "general",
            "sampling": False,
            "beam": True,
        },
        {"name": "no attention", "attention": None, "sampling": False},
        {
            "name": "attention + scheduled sampling",
            "attention": "general",
            "sampling": True,
        },
        {
            "name": "no attention + scheduled sampling",
            "attention": None,
            "sampling": True,
        },
    ]
    if args.quick:
        configs = configs[:2]
    if args.only:
        configs = [c for c in configs if args.only in c["name"]]
    for config in configs:
        r = run(config, train, test, args)
        line = (
            f"{r['name']:<34} exact match {r['exact_match']:.4f}"
            + (
                f" (beam 4: {r['beam_exact_match']:.4f})"
                if "beam_exact_match" in r
                else ""
            )
            + f"  final loss {r['loss']:.4f}  teacher forcing at end {r['ratio_end']:.2f}"
            + f"  train {r['train_seconds']:.0f}s  decode {r['eval_seconds']:.1f}s"
        )
        print(line, flush=True)
        for source, output in r["examples"]:
            print(f"    {source!r:>40} -> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
