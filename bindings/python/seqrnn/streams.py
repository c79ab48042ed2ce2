"""Truncated backpropagation through time over long token streams.

:meth:`seqrnn.Model.fit_stream` trains a next-token model (a language model)
on one long stream of token ids, or on a list of documents, the way char-rnn
and PyTorch's word-language-model example do: the data is cut into
``batch_size`` parallel streams, each stream is walked in chunks of
``seq_len`` steps, and the hidden state carries from one chunk to the next
without backpropagating across the chunk boundary (stateful training).

Documents never leak state into each other: each document starts on a chunk
boundary of its stream, with the state reset to zero there, and the padding
after a document's last token is masked out of the loss (loss weight 0), so
the result is exact, not an approximation.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _seqrnn
from .callbacks import History
from .errors import InvalidArgumentError, fail

if TYPE_CHECKING:
    from .model import Model

_OPTIMIZERS = {"sgd": 0, "adam": 1, "adamw": 2, "rmsprop": 3}


@dataclass
class _Streams:
    """The data laid out as [batch_size, steps] inputs, targets, loss weights
    and the chunk indices at which each stream starts a new document."""

    inputs: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    starts: list[np.ndarray]  # per chunk: bool[batch] "reset before it"


def _as_documents(data: Any, vocab_size: int) -> list[np.ndarray]:
    """One 1-D int array per document; a flat sequence is one document."""
    if isinstance(data, np.ndarray) and data.ndim == 1:
        documents = [data]
    elif isinstance(data, Sequence) and data and not np.isscalar(data[0]):
        documents = [np.asarray(d) for d in data]
    else:
        documents = [np.asarray(data)]
    checked = []
    for i, doc in enumerate(documents):
        if doc.ndim != 1 or not np.issubdtype(doc.dtype, np.integer):
            fail(
                InvalidArgumentError,
                f"data: document {i}: expected a 1-D sequence of token ids, "
                f"got shape {doc.shape} and dtype {doc.dtype}",
            )
        if doc.size and (doc.min() < 0 or doc.max() >= vocab_size):
            fail(
                InvalidArgumentError,
                f"data: document {i}: token ids must be in [0, vocab_size={vocab_size})",
            )
        if doc.size >= 2:
            checked.append(doc.astype(np.int32))
    if not checked:
        fail(InvalidArgumentError, "data: needs a document of at least 2 tokens")
    return checked


def _layout(documents: list[np.ndarray], batch_size: int, seq_len: int) -> _Streams:
    """Packs documents into batch_size streams (greedily, the shortest stream
    next), each document starting a chunk and padded to whole chunks."""
    streams: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [
        [] for _ in range(batch_size)
    ]
    lengths = [0] * batch_size
    starts: list[list[int]] = [[] for _ in range(batch_size)]
    for doc in sorted(documents, key=len, reverse=True):
        s = int(np.argmin(lengths))
        x, y = doc[:-1], doc[1:]
        chunks = -(-len(x) // seq_len)
        pad = chunks * seq_len - len(x)
        w = np.concatenate([np.ones(len(x), np.float32), np.zeros(pad, np.float32)])
        x = np.concatenate([x, np.zeros(pad, np.int32)])
        y = np.concatenate([y, np.zeros(pad, np.int32)])
        starts[s].append(lengths[s] // seq_len)
        streams[s].append((x, y, w))
        lengths[s] += chunks * seq_len
    total = max(lengths)
    inputs = np.zeros((batch_size, total), np.int32)
    targets = np.zeros((batch_size, total), np.int32)
    weights = np.zeros((batch_size, total), np.float32)
    for s, parts in enumerate(streams):
        at = 0
        for x, y, w in parts:
            inputs[s, at : at + len(x)] = x
            targets[s, at : at + len(x)] = y
            weights[s, at : at + len(x)] = w
            at += len(x)
    chunk_starts = []
    for c in range(total // seq_len):
        chunk_starts.append(np.array([c in starts[s] for s in range(batch_size)]))
    return _Streams(inputs, targets, weights, chunk_starts)


def fit_stream(
    model: Model,
    data: Any,
    *,
    seq_len: int,
    batch_size: int = 32,
    epochs: int = 1,
    optimizer: str = "adam",
    lr: float = 1e-3,
    clip_norm: float | None = None,
    seed: int = 0,
    verbose: int = 1,
) -> History:
    """Trains ``model`` to predict each next token of ``data`` with truncated
    BPTT; see :mod:`seqrnn.streams`. Returns a :class:`~seqrnn.History` with
    the per-epoch ``loss`` and ``perplexity``."""
    if (
        model.vocab_size is None
        or model.output != "sequence"
        or model.loss != "cross_entropy"
    ):
        fail(
            InvalidArgumentError,
            "fit_stream: needs a token model with output='sequence' and "
            "loss='cross_entropy' (a next-token model)",
        )
    if model.output_size != model.vocab_size:
        fail(
            InvalidArgumentError,
            f"fit_stream: output_size ({model.output_size}) must equal vocab_size "
            f"({model.vocab_size}) to predict the next token",
        )
    for name, value in (
        ("seq_len", seq_len),
        ("batch_size", batch_size),
        ("epochs", epochs),
    ):
        if (
            not isinstance(value, (int, np.integer))
            or isinstance(value, bool)
            or value < 1
        ):
            fail(
                InvalidArgumentError,
                f"fit_stream: {name} must be an integer >= 1, got {value!r}",
            )
    if optimizer not in _OPTIMIZERS:
        fail(
            InvalidArgumentError,
            f"fit_stream: optimizer must be one of {sorted(_OPTIMIZERS)}, got {optimizer!r}",
        )
    documents = _as_documents(data, int(model.vocab_size))
    if len(documents) == 1:
        # One long stream: batch_size contiguous pieces, one per stream (each
        # starts from a zero state, as char-rnn's batches do).
        pieces = np.array_split(documents[0], min(batch_size, len(documents[0]) // 2))
        documents = [piece for piece in pieces if len(piece) >= 2]
    layout = _layout(documents, batch_size, seq_len)
    handle = model._model()
    trainer = _seqrnn.Trainer(
        handle,
        optimizer=_OPTIMIZERS[optimizer],
        learning_rate=float(lr),
        momentum=0.0,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        clip_norm=float(clip_norm or 0.0),
        stateful=True,
        seed=int(seed),
    )
    history = History()
    history.on_train_begin()
    chunks = len(layout.starts)
    try:
        for epoch in range(epochs):
            began = time.perf_counter()
            loss_sum = weight_sum = 0.0
            for c in range(chunks):
                part = slice(c * seq_len, (c + 1) * seq_len)
                if c == 0:
                    trainer.reset_state()
                elif layout.starts[c].any():
                    trainer.reset_state(layout.starts[c].astype(np.uint8))
                weights = np.ascontiguousarray(layout.weights[:, part])
                total = float(weights.sum())
                if total == 0:
                    continue
                with model._lock.write():
                    loss = trainer.step(
                        batch_size=batch_size,
                        seq_len=seq_len,
                        tokens=np.ascontiguousarray(layout.inputs[:, part]),
                        target_classes=np.ascontiguousarray(layout.targets[:, part]),
                        loss_weights=weights,
                    )
                loss_sum += float(loss) * total
                weight_sum += total
            mean = loss_sum / max(weight_sum, 1.0)
            logs = {"loss": mean, "perplexity": float(np.exp(mean))}
            history.on_epoch_end(epoch, logs)
            if verbose:
                print(
                    f"Epoch {epoch + 1}/{epochs} - {chunks} chunks - "
                    f"{time.perf_counter() - began:.1f}s - loss: {mean:.4f} - "
                    f"perplexity: {logs['perplexity']:.2f}",
                    file=sys.stdout,
                    flush=True,
                )
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        trainer.close()
    return history
