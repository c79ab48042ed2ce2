"""Sentence sentiment (SST-2) with a word-level recurrent classifier.

Reads the Stanford Sentiment Treebank's binary sentences ("label text" per
line in train.txt, dev.txt, test.txt), builds the tokenizer's vocabulary
from the training sentences only (words seen fewer than --min-freq times
become <unk>), and trains a bidirectional LSTM whose embeddings start from
random values (output="last": one prediction per sentence from both
directions' final states). Batches hold sentences of similar lengths
(seqrnn.text.bucket_order); dropout on the recurrent state and the head,
and word dropout (each training word becomes <unk> with probability
--word-dropout, drawn afresh every epoch) fight over-fitting; the epoch
with the best dev accuracy is kept (early stopping). With --ensemble N,
N such models from different seeds vote by averaging their probabilities.
Reports test accuracy, macro F1 and time.

    python examples/python/sst2_sentiment.py             # full run, a few minutes
    python examples/python/sst2_sentiment.py --quick     # under a minute (CI)
    python examples/python/sst2_sentiment.py --data DIR  # DIR/{train,dev,test}.txt

The last line is machine-readable:
``RESULT test_accuracy=... macro_f1=... seconds=...``. Without the data
directory the script runs on a tiny built-in sample and says so (its
numbers mean nothing).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import seqrnn
from seqrnn.metrics import Metrics
from seqrnn.text import UNK_ID, Tokenizer, Vocabulary, bucket_order, pad_batch

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "sst2"

# A stand-in for machines without SST-2: short reviews made from templates
# and sentiment words, so held-out sentences reuse words seen in training.
_TEMPLATES = [
    "a {} film",
    "the acting is {} and {}",
    "{} from start to finish",
    "a {} , {} story",
    "the script is {} , the cast {}",
    "one of the most {} films in years",
]
_WORDS = {
    1: ["warm", "funny", "moving", "smart", "charming", "beautiful", "clever"],
    0: ["dull", "boring", "lifeless", "stupid", "tedious", "lazy", "empty"],
}


def builtin_sample() -> dict[str, tuple[list[str], np.ndarray]]:
    """Train/dev/test splits (70/15/15) of the template sentences."""
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for label, words in _WORDS.items():
        for template in _TEMPLATES:
            for _ in range(12):
                picks = rng.choice(words, size=template.count("{}"), replace=False)
                texts.append(template.format(*picks))
                labels.append(label)
    order = rng.permutation(len(texts))
    cut = [int(len(texts) * 0.7), int(len(texts) * 0.85)]
    parts = np.split(order, cut)
    y = np.array(labels)
    return {
        name: ([texts[i] for i in part], y[part])
        for name, part in zip(("train", "dev", "test"), parts)
    }


def read_split(path: Path) -> tuple[list[str], np.ndarray]:
    """Sentences and labels of one "label text" file."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            label, _, text = line.partition(" ")
            if label not in ("0", "1"):
                raise SystemExit(f"{path}:{number}: expected '0 text' or '1 text'")
            texts.append(text)
            labels.append(int(label))
    return texts, np.array(labels, dtype=np.int64)


def load_data(directory: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    files = {split: directory / f"{split}.txt" for split in ("train", "dev", "test")}
    if all(p.is_file() for p in files.values()):
        return {split: read_split(p) for split, p in files.items()}
    print(
        f"sst2_sentiment: {directory}/{{train,dev,test}}.txt not found; running on a "
        "tiny built-in sample instead (the numbers below mean nothing)"
    )
    return builtin_sample()


def encode(vocab: Vocabulary, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Padded ids and lengths; an empty sentence becomes one <unk>."""
    seqs = [
        ids if ids.size else np.array([UNK_ID]) for ids in vocab.encode_batch(texts)
    ]
    return pad_batch(seqs)


def train_one(seed, vocab, train, dev, args) -> tuple[seqrnn.Model, float, int]:
    """Trains one classifier; returns it with the weights of its best dev
    epoch, that accuracy and the epoch."""
    x, lengths, y = train
    x_dev, len_dev, y_dev = dev
    model = seqrnn.Model(
        args.cell,
        vocab_size=len(vocab),
        input_size=args.embed,
        hidden_size=args.hidden,
        bidirectional=not args.unidirectional,
        output_size=2,
        output="last",
        recurrent_dropout=args.recurrent_dropout,
        head_dropout=args.head_dropout,
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    order = bucket_order(lengths, args.batch, seed=seed)
    best, best_epoch, best_state, waited = -1.0, -1, None, 0
    for epoch in range(args.epochs):
        # Word dropout: a fresh set of words hidden as <unk> every epoch.
        dropped = rng.random(x.shape) < args.word_dropout
        x_epoch = np.where(dropped, UNK_ID, x).astype(np.int32)
        history = model.fit(
            x_epoch,
            y,
            lengths,
            epochs=1,
            batch_size=args.batch,
            lr=args.lr,
            clip_norm=5.0,
            # fit is called once per epoch: its epoch 0 is our epoch.
            shuffle=lambda _, epoch=epoch: order(epoch),
            seed=seed * 1000 + epoch,
            verbose=0,
        )
        accuracy = model.evaluate(x_dev, y_dev, len_dev)["accuracy"]
        if args.verbose:
            print(
                f"  seed {seed} epoch {epoch + 1}: loss {history.history['loss'][0]:.3f} "
                f"dev accuracy {accuracy:.4f}"
            )
        if accuracy > best:
            best, best_epoch, best_state, waited = (
                accuracy,
                epoch,
                model.state_dict(),
                0,
            )
        else:
            waited += 1
            if waited >= args.patience:
                break
    model.load_state_dict(best_state)
    return model, best, best_epoch


def probabilities(models, x, lengths) -> np.ndarray:
    """The models' mean class probabilities."""
    return np.mean([m.predict_proba(x, lengths) for m in models], axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true", help="a small run for CI")
    parser.add_argument("--cell", default="lstm", choices=("lstm", "gru"))
    parser.add_argument("--unidirectional", action="store_true")
    parser.add_argument("--hidden", type=int, default=64, help="units per direction")
    parser.add_argument("--embed", type=int, default=64)
    parser.add_argument("--min-freq", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--word-dropout", type=float, default=0.2)
    parser.add_argument("--recurrent-dropout", type=float, default=0.25)
    parser.add_argument("--head-dropout", type=float, default=0.5)
    parser.add_argument("--ensemble", type=int, default=3, help="models that vote")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="a line per epoch")
    args = parser.parse_args()
    seqrnn.set_num_threads(args.threads)
    began = time.perf_counter()

    data = load_data(args.data)
    if args.quick:  # a fifth of the training sentences, fewer epochs, one model
        texts, labels = data["train"]
        keep = max(len(texts) // 5, min(len(texts), 200))
        data["train"] = (texts[:keep], labels[:keep])
        args.epochs, args.ensemble, args.hidden = 5, 1, 32

    # Tokenizer and vocabulary from the training sentences only.
    vocab = Vocabulary.build(
        data["train"][0], min_freq=args.min_freq, tokenizer=Tokenizer(lower=True)
    )
    splits = {}
    for name, (texts, labels) in data.items():
        x, lengths = encode(vocab, texts)
        splits[name] = (x, lengths, labels)
        unknown = np.mean(x[np.arange(x.shape[1]) < lengths[:, None]] == UNK_ID)
        print(
            f"{name}: {len(texts)} sentences, up to {x.shape[1]} tokens, "
            f"{unknown:.1%} of the tokens unknown"
        )
    print(f"vocabulary: {len(vocab)} ids (min_freq {args.min_freq}, from train only)")

    models = []
    for k in range(args.ensemble):
        seed = args.seed + k
        start = time.perf_counter()
        model, dev_accuracy, epoch = train_one(
            seed, vocab, splits["train"], splits["dev"], args
        )
        models.append(model)
        x_test, len_test, y_test = splits["test"]
        alone = float(np.mean(model.predict(x_test, len_test).argmax(1) == y_test))
        print(
            f"model {k + 1}/{args.ensemble} ({args.cell}, seed {seed}): best dev "
            f"accuracy {dev_accuracy:.4f} at epoch {epoch + 1}, test accuracy "
            f"{alone:.4f} ({time.perf_counter() - start:.0f} s)"
        )

    x_dev, len_dev, y_dev = splits["dev"]
    x_test, len_test, y_test = splits["test"]
    dev_accuracy = float(
        np.mean(probabilities(models, x_dev, len_dev).argmax(1) == y_dev)
    )
    predicted = probabilities(models, x_test, len_test).argmax(1)
    with Metrics(2) as metrics:
        metrics.add_predictions(predicted, y_test)
        result = metrics.result()
    seconds = time.perf_counter() - began
    what = f"ensemble of {len(models)}" if len(models) > 1 else "one model"
    print(
        f"{what}: dev accuracy {dev_accuracy:.4f}, test accuracy "
        f"{result['accuracy']:.4f}, test macro F1 {result['f1']:.4f}; {seconds:.0f} s"
    )
    print(
        f"RESULT test_accuracy={result['accuracy']:.4f} macro_f1={result['f1']:.4f} "
        f"dev_accuracy={dev_accuracy:.4f} seconds={seconds:.1f}"
    )


if __name__ == "__main__":
    main()
