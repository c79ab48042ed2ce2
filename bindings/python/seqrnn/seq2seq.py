"""Encoder-decoder (sequence-to-sequence) models: :class:`Seq2Seq`.

An encoder stack reads a source token sequence; a decoder stack of the same
cell, depth and width starts from the encoder's final states and emits the
target tokens one by one, optionally attending over the encoder's outputs
(Luong et al. 2015, "dot" or "general", without input feeding). Training is
teacher-forced, with optional scheduled sampling: a teacher-forcing ratio
that decays by a schedule (Bengio et al. 2015), implemented as *parallel*
scheduled sampling with one extra pass (Duckworth et al. 2019; see the C
header's seq2seq section). Decoding is greedy or beam search.

Sequences are lists (or 1-D arrays) of int token ids; targets are given
without BOS/EOS, and decoded sequences come back without EOS.

>>> import seqrnn
>>> pairs = [([a, b], [b + 3, a + 3]) for a in range(3) for b in range(3)]
>>> model = seqrnn.Seq2Seq(3, 6, hidden_size=32, attention="dot", bos_id=0, eos_id=1, lr=0.02)
>>> history = model.fit([s for s, _ in pairs], [t for _, t in pairs], epochs=150, batch_size=9, verbose=0)
>>> model.exact_match([s for s, _ in pairs], [t for _, t in pairs])
1.0
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from . import _seqrnn
from ._inputs import check_path
from ._progress import ProgressBar
from .callbacks import Callback, CallbackList, History
from .errors import InvalidArgumentError, ShapeError, fail

_CELLS = {"rnn_tanh": 0, "tanh": 0, "rnn_relu": 1, "relu": 1, "lstm": 2, "gru": 3}
_ATTENTION = {
    None: _seqrnn.ATTENTION_NONE,
    "none": _seqrnn.ATTENTION_NONE,
    "dot": _seqrnn.ATTENTION_DOT,
    "general": _seqrnn.ATTENTION_GENERAL,
}
_SAMPLING = {
    None: _seqrnn.SAMPLING_NONE,
    "none": _seqrnn.SAMPLING_NONE,
    "constant": _seqrnn.SAMPLING_CONSTANT,
    "linear": _seqrnn.SAMPLING_LINEAR,
    "exponential": _seqrnn.SAMPLING_EXPONENTIAL,
    "inverse_sigmoid": _seqrnn.SAMPLING_INVERSE_SIGMOID,
}
_OPTIMIZERS = {"sgd": 0, "adam": 1, "adamw": 2, "rmsprop": 3}
_INITS = {"pytorch": 0, "xavier": 1, "orthogonal": 2}

TokenSequences = Sequence[Sequence[int]]


def _choice(table: dict, value: Any, what: str) -> int:
    key = value.lower() if isinstance(value, str) else value
    if key not in table:
        names = ", ".join(repr(k) for k in table if k is not None)
        fail(InvalidArgumentError, f"{what} must be one of {names}; got {value!r}")
    return int(table[key])


def pad(
    sequences: Iterable[Sequence[int]], *, minimum: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Pads token sequences into an int32 ``[batch][longest]`` array and an
    int64 lengths array (every length must be at least ``minimum``)."""
    rows = [np.asarray(s, dtype=np.int64).reshape(-1) for s in sequences]
    if not rows:
        fail(ShapeError, "no sequences given")
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    if lengths.min() < minimum:
        fail(ShapeError, f"sequence {int(lengths.argmin())} is shorter than {minimum}")
    width = max(int(lengths.max()), 0)
    out = np.zeros((len(rows), width), dtype=np.int32)
    for i, r in enumerate(rows):
        if len(r) and (r.min() < -(2**31) or r.max() >= 2**31):
            fail(InvalidArgumentError, f"sequence {i} holds an id outside int32")
        out[i, : len(r)] = r
    return out, lengths


class Seq2Seq:
    """An encoder-decoder with its optimizer state.

    Parameters: ``source_vocab_size`` and ``target_vocab_size`` (the target
    vocabulary includes ``bos_id`` and ``eos_id``); ``cell`` ("lstm", "gru",
    "rnn_tanh", "rnn_relu"), ``hidden_size``, ``embedding_size`` (0: the
    hidden size), ``num_layers``, ``bidirectional_encoder`` (the encoder reads
    each source both ways; its two directions are summed for attention and
    for the decoder's initial states), ``attention`` (None, "dot", "general"),
    ``seed`` (weights), ``dropout`` (between the layers of both stacks) and
    ``recurrent_dropout`` (variational, on both stacks' previous hidden
    state), both in [0, 1) and active only in training steps and
    :meth:`compute_gradients`; training: ``optimizer``, ``lr``,
    ``clip_norm``, ``weight_decay``; scheduled sampling: ``sampling`` (None, "constant",
    "linear", "exponential", "inverse_sigmoid"), ``sampling_start``,
    ``sampling_end``, ``sampling_decay`` (per training step; see
    :meth:`teacher_forcing_ratio`), ``sampling_from_model`` (feed back a sample
    instead of the arg-max), ``train_seed``.
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        *,
        cell: str = "lstm",
        hidden_size: int = 64,
        embedding_size: int = 0,
        num_layers: int = 1,
        bidirectional_encoder: bool = False,
        attention: str | None = None,
        bos_id: int = 1,
        eos_id: int = 2,
        seed: int = 0,
        init: str = "pytorch",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        optimizer: str = "adam",
        lr: float = 1e-3,
        clip_norm: float = 0.0,
        weight_decay: float = 0.0,
        sampling: str | None = None,
        sampling_start: float = 1.0,
        sampling_end: float = 0.0,
        sampling_decay: float = 0.0,
        sampling_from_model: bool = False,
        train_seed: int = 0,
        _handle: Any = None,
    ) -> None:
        self.stop_training = False  # set by a callback to end fit() early
        if _handle is not None:
            self._m = _handle
            return
        self._m = _seqrnn.Seq2Seq(
            source_vocab_size=source_vocab_size,
            target_vocab_size=target_vocab_size,
            cell=_choice(_CELLS, cell, "cell"),
            hidden_size=hidden_size,
            embedding_size=embedding_size,
            num_layers=num_layers,
            bidirectional_encoder=bidirectional_encoder,
            attention=_choice(_ATTENTION, attention, "attention"),
            bos_id=bos_id,
            eos_id=eos_id,
            seed=seed,
            init=_choice(_INITS, init, "init"),
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            optimizer=_choice(_OPTIMIZERS, optimizer, "optimizer"),
            learning_rate=lr,
            clip_norm=clip_norm,
            weight_decay=weight_decay,
            sampling_schedule=_choice(_SAMPLING, sampling, "sampling"),
            sampling_start=sampling_start,
            sampling_end=sampling_end,
            sampling_decay=sampling_decay,
            sampling_from_model=sampling_from_model,
            train_seed=train_seed,
        )

    # ---- configuration -----------------------------------------------------

    def params(self) -> dict:
        """The configuration and training settings (C field names)."""
        return dict(self._m.params())

    @property
    def bos_id(self) -> int:
        return int(self._m.params()["bos_id"])

    @property
    def eos_id(self) -> int:
        return int(self._m.params()["eos_id"])

    @property
    def step_count(self) -> int:
        """Training steps taken so far (the sampling schedule's clock)."""
        return int(self._m.step_count())

    def teacher_forcing_ratio(self, step: int | None = None) -> float:
        """The probability of feeding the gold previous token after ``step``
        training steps (default: now), from the sampling schedule."""
        return float(self._m.teacher_forcing_ratio(-1 if step is None else step))

    def set_learning_rate(self, lr: float) -> None:
        """Changes the base learning rate of later steps."""
        self._m.set_learning_rate(lr)

    # ---- batches ---------------------------------------------------------------

    @staticmethod
    def _batch(sources: TokenSequences, targets: TokenSequences | None) -> tuple:
        src, src_len = pad(sources, minimum=1)
        if targets is None:
            return (len(src), src.shape[1], src, src_len, 0, None, None)
        if len(targets) != len(src):
            fail(ShapeError, f"{len(src)} sources but {len(targets)} targets")
        tgt, tgt_len = pad(targets, minimum=0)
        return (len(src), src.shape[1], src, src_len, tgt.shape[1], tgt, tgt_len)

    # ---- training ----------------------------------------------------------------

    def train_step(self, sources: TokenSequences, targets: TokenSequences) -> float:
        """One optimizer step on a batch; returns its mean per-token loss."""
        return float(self._m.train_step(*self._batch(sources, targets)))

    def fit(
        self,
        sources: TokenSequences,
        targets: TokenSequences,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        validation: tuple[TokenSequences, TokenSequences] | None = None,
        exact_match: bool = True,
        shuffle: bool = True,
        seed: int = 0,
        verbose: int = 1,
        callbacks: Iterable[Callback] = (),
    ) -> dict[str, list[float]]:
        """Trains for ``epochs`` passes over the pairs in shuffled batches.

        Returns a history dict: ``loss`` (mean training loss per epoch),
        ``teacher_forcing`` (ratio at the end of the epoch) and, with
        ``validation=(sources, targets)``, ``val_loss``, ``val_token_accuracy``
        (teacher-forced token accuracy) and (with ``exact_match``)
        ``val_exact_match`` (greedy decoding). The same keys are each
        epoch's logs for ``callbacks`` (:class:`~seqrnn.Callback` objects,
        e.g. :class:`~seqrnn.EarlyStopping`, which restores a seq2seq
        model's best weights too); batch logs hold the batch's ``loss`` and
        ``size``. A callback stops training by setting
        ``model.stop_training = True``. ``verbose``: 0 silent, 1 a progress
        bar per epoch (a line when not on a terminal), 2 a line per epoch.
        Ctrl-C ends training after the current step and returns the history
        of the completed epochs.
        """
        if len(sources) != len(targets):
            fail(ShapeError, f"{len(sources)} sources but {len(targets)} targets")
        if epochs < 0 or batch_size < 1:
            fail(InvalidArgumentError, "epochs must be >= 0 and batch_size >= 1")
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                fail(InvalidArgumentError, f"callbacks: {cb!r} is not a Callback")
        n = len(sources)
        steps = -(-n // batch_size)
        metrics = ["loss", "teacher_forcing"]
        if validation is not None:
            metrics += ["val_loss", "val_token_accuracy"]
            metrics += ["val_exact_match"] if exact_match else []
        params = {
            "epochs": epochs,
            "steps": steps,
            "batch_size": batch_size,
            "samples": n,
            "verbose": verbose,
            "metrics": metrics,
            "accuracy": False,
            "do_validation": validation is not None,
        }
        history = History()
        progress = ProgressBar(verbose)
        cbs = CallbackList([history, *callbacks, progress], self, params)
        self.stop_training = False
        rng = np.random.default_rng(seed)
        cbs.on_train_begin({})
        try:
            for epoch in range(epochs):
                cbs.on_epoch_begin(epoch, {})
                order = rng.permutation(n) if shuffle else np.arange(n)
                total, batches = 0.0, 0
                for first in range(0, n, batch_size):
                    idx = order[first : first + batch_size]
                    cbs.on_batch_begin(batches, {"size": len(idx)})
                    loss = self.train_step(
                        [sources[i] for i in idx], [targets[i] for i in idx]
                    )
                    total += loss
                    cbs.on_batch_end(batches, {"loss": loss, "size": len(idx)})
                    batches += 1
                    if self.stop_training:
                        break
                logs = {
                    "loss": total / max(batches, 1),
                    "teacher_forcing": self.teacher_forcing_ratio(),
                }
                if validation is not None:
                    val = self.evaluate(*validation)
                    logs["val_loss"] = val["loss"]
                    logs["val_token_accuracy"] = val["token_accuracy"]
                    if exact_match:
                        logs["val_exact_match"] = self.exact_match(*validation)
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    history.stopped_early = True
                    break
        except KeyboardInterrupt:
            history.interrupted = True
            progress.interrupted(
                "Training interrupted (KeyboardInterrupt); the model keeps the weights "
                f"of its last completed step. Returning the history of the "
                f"{len(history.epoch)} completed epochs."
            )
        finally:
            cbs.on_train_end({})
        return history.history

    # ---- evaluation ----------------------------------------------------------------

    def evaluate(
        self, sources: TokenSequences, targets: TokenSequences, *, batch_size: int = 512
    ) -> dict[str, float]:
        """Teacher-forced mean per-token loss (EOS included) and token accuracy."""
        loss = correct = count = 0.0
        for first in range(0, len(sources), batch_size):
            sl = slice(first, first + batch_size)
            batch_loss, accuracy, n = self._m.evaluate(
                *self._batch(sources[sl], targets[sl])
            )
            loss += batch_loss * n
            correct += accuracy * n
            count += n
        return {
            "loss": loss / count,
            "token_accuracy": correct / count,
            "count": int(count),
        }

    def exact_match(
        self,
        sources: TokenSequences,
        targets: TokenSequences,
        *,
        beam_width: int | None = None,
        max_length: int | None = None,
    ) -> float:
        """Fraction of sources whose decoded sequence equals the target exactly."""
        longest = max((len(t) for t in targets), default=0)
        decoded = self.translate(
            sources, beam_width=beam_width, max_length=max_length or longest + 1
        )
        hits = sum(
            1
            for d, t in zip(decoded, targets)
            if np.array_equal(d, np.asarray(t, dtype=np.int32))
        )
        return hits / max(len(targets), 1)

    def logits(
        self, sources: TokenSequences, targets: TokenSequences
    ) -> tuple[np.ndarray, np.ndarray]:
        """Teacher-forced logits ``[batch][longest target + 1][V]`` and attention
        weights ``[batch][longest target + 1][longest source]`` (zeros without
        attention); zeros past each target length + 1."""
        batch = self._batch(sources, targets)
        b, s, t = batch[0], batch[1], batch[4]
        v = int(self._m.params()["target_vocab_size"])
        logits = np.zeros((b, t + 1, v), dtype=np.float32)
        attention = np.zeros((b, t + 1, s), dtype=np.float32)
        self._m.logits(*batch, logits, attention)
        return logits, attention

    # ---- decoding ----------------------------------------------------------------

    def translate(
        self,
        sources: TokenSequences,
        *,
        beam_width: int | None = None,
        length_penalty: float = 0.0,
        max_length: int | None = None,
        batch_size: int = 256,
        return_scores: bool = False,
    ) -> Any:
        """Decodes each source: greedy (``beam_width`` None or 1 is the same
        result) or beam search with ``beam_width`` hypotheses, ranking finished
        ones by ``log p / length**length_penalty``. ``max_length`` defaults to
        twice the longest source plus 8. Returns a list of int32 arrays
        (without EOS), and with ``return_scores`` also their log-probabilities.
        """
        width = 0 if beam_width is None else int(beam_width)
        if beam_width is not None and width < 1:
            fail(InvalidArgumentError, f"beam_width must be >= 1, got {beam_width}")
        out: list[np.ndarray] = []
        scores: list[float] = []
        for first in range(0, len(sources), batch_size):
            batch = self._batch(sources[first : first + batch_size], None)
            b, s = batch[0], batch[1]
            limit = int(max_length) if max_length is not None else 2 * s + 8
            tokens = np.zeros((b, max(limit, 1)), dtype=np.int32)
            lengths = np.zeros(b, dtype=np.int64)
            batch_scores = np.zeros(b, dtype=np.float32)
            self._m.decode(
                *batch, limit, width, length_penalty, tokens, lengths, batch_scores
            )
            out.extend(tokens[i, : lengths[i]].copy() for i in range(b))
            scores.extend(float(x) for x in batch_scores)
        return (out, scores) if return_scores else out

    predict = translate

    # ---- tensors and files ------------------------------------------------------

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every tensor's shape, by name, in state_dict order."""
        return {name: tuple(shape) for name, shape in self._m.tensors()}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every tensor (float32), PyTorch-like names."""
        out = {}
        for name, shape in self._m.tensors():
            array = np.zeros(shape, dtype=np.float32)
            self._m.get_tensor(name, array)
            out[name] = array
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Sets tensors by name (each must have the tensor's element count)."""
        for name, value in state.items():
            self._m.set_tensor(
                name, np.ascontiguousarray(value, dtype=np.float32).reshape(-1)
            )

    def gradients(self) -> dict[str, np.ndarray]:
        """The gradients of the latest step or :meth:`compute_gradients`."""
        out = {}
        for name, shape in self._m.tensors():
            array = np.zeros(shape, dtype=np.float32)
            self._m.get_gradient(name, array)
            out[name] = array
        return out

    def compute_gradients(
        self, sources: TokenSequences, targets: TokenSequences
    ) -> float:
        """Teacher-forced loss and gradients without an update (dropout acts,
        with fresh masks, as in a training step)."""
        return float(self._m.compute_gradients(*self._batch(sources, targets)))

    def save(self, path: str | os.PathLike) -> None:
        """Saves weights and configuration as safetensors."""
        self._m.save(os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike, *, lr: float = 1e-3) -> Seq2Seq:
        """Loads a model saved by :meth:`save` (fresh Adam state at ``lr``)."""
        return cls(
            0, 0, _handle=_seqrnn.Seq2Seq.load(os.fspath(path), learning_rate=lr)
        )

    def save_checkpoint(self, path: str | os.PathLike, position: int = 0) -> None:
        """Saves everything needed to resume training bit for bit (weights,
        optimizer state, step count, schedules, the sampling and dropout random
        streams) and ``position``, an integer of your choosing such as the next
        batch, as one file, atomically."""
        self._m.save_checkpoint(check_path(path), position)

    @classmethod
    def load_checkpoint(cls, path: str | os.PathLike) -> tuple[Seq2Seq, int]:
        """Loads a checkpoint written by :meth:`save_checkpoint`: returns
        ``(model, position)``, a model that continues training exactly where
        the saved one stopped, and the saved position."""
        handle, position = _seqrnn.Seq2Seq.load_checkpoint(check_path(path))
        return cls(0, 0, _handle=handle), int(position)

    def close(self) -> None:
        """Frees the model now."""
        self._m.close()
