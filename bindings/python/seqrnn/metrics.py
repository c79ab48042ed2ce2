"""Streaming evaluation metrics: loss, accuracy, per-class and macro
precision / recall / F1, perplexity, bits per token and the confusion
matrix, accumulated over the batches of an epoch.

>>> import numpy as np, seqrnn
>>> from seqrnn.metrics import Metrics
>>> m = Metrics(3)
>>> m.add_predictions([0, 0, 1, 2, 1, 1, 0, 2, 2, 1], [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
>>> m.confusion_matrix
array([[2, 1, 1],
       [1, 2, 0],
       [0, 1, 2]])
>>> round(m.result()["f1"], 4)      # macro F1: (4/7 + 4/7 + 2/3) / 3
0.6032

With a model, :meth:`Metrics.update` runs it on inputs and targets (any
number of calls, e.g. one per batch of a validation set) and adds the loss
and the arg-max predictions:

>>> model = seqrnn.Model("gru", vocab_size=10, hidden_size=8, output_size=10)
>>> x = np.random.default_rng(0).integers(0, 10, size=(16, 12))
>>> m = Metrics.for_model(model)
>>> m.update(model, x[:, :-1], x[:, 1:])
>>> sorted(m.result())           # doctest: +NORMALIZE_WHITESPACE
['accuracy', 'bits_per_token', 'count', 'f1', 'loss', 'perplexity',
 'precision', 'recall']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _seqrnn
from .errors import InvalidArgumentError, ShapeError, fail

if TYPE_CHECKING:
    from typing_extensions import Self

    from .model import Model

__all__ = ["Metrics", "roc_auc"]

_BATCH = 256


class Metrics:
    """An accumulator of evaluation metrics over many batches (streaming:
    only counts and sums are kept).

    Args:
        num_classes: the model's ``output_size`` for cross-entropy models;
            0 for MSE models (then only the loss is kept). See
            :meth:`for_model`.

    What :meth:`result` reports:

    - ``loss``: mean loss over all positions, weighted like the model's loss
      (``sum(w * loss) / sum(w)`` when loss weights are given);
    - ``perplexity`` = ``exp(loss)`` and ``bits_per_token`` = ``loss / ln 2``
      (bits per character for character models);
    - ``accuracy``; ``precision``, ``recall``, ``f1``: macro averages;
    - ``count``: positions accumulated.

    Predictions are the arg-max of the logits (ties go to the lowest class,
    as ``np.argmax``); positions with loss weight 0 are ignored. Per-class
    values follow scikit-learn with ``zero_division=0`` (precision 0 for a
    class never predicted, recall 0 for a class never a target), and the
    macro averages are over the classes that occur as a target or as a
    prediction, as scikit-learn's ``f1_score(y_true, y_pred,
    average="macro", zero_division=0)``. Undefined values are NaN.
    """

    def __init__(self, num_classes: int) -> None:
        self._handle: Any | None = _seqrnn.Metrics(num_classes)
        self.num_classes = int(num_classes)

    @classmethod
    def for_model(cls, model: Model) -> Metrics:
        """An accumulator that fits ``model``: ``output_size`` classes for
        cross-entropy models, loss only for MSE models."""
        return cls(model.output_size if model.loss == "cross_entropy" else 0)

    def _h(self) -> Any:
        if self._handle is None:
            fail(InvalidArgumentError, "this Metrics is closed")
        return self._handle

    def reset(self) -> None:
        """Empties the accumulator (e.g. at the start of an epoch)."""
        self._h().reset()

    def update(
        self,
        model: Model,
        x: Any,
        y: Any,
        lengths: Any = None,
        *,
        loss_weights: Any = None,
        batch_size: int = _BATCH,
    ) -> None:
        """Runs ``model`` on ``x`` and adds its loss and (cross-entropy) its
        predictions against ``y``. Inputs and targets are as in
        :meth:`seqrnn.Model.evaluate`; ``loss_weights`` (optional, shaped like
        class targets: ``[batch, time]`` or ``[batch]``) weighs each
        position's loss, 0 ignoring it. The model is not changed."""
        handle = self._h()
        inputs = model._inputs(x, lengths)
        targets = model._targets(y, inputs)
        weights = None
        if loss_weights is not None:
            shape = (
                (inputs.batch, inputs.time)
                if model.output == "sequence"
                else (inputs.batch,)
            )
            weights = np.ascontiguousarray(loss_weights, dtype=np.float32)
            if weights.shape != shape:
                fail(
                    ShapeError,
                    f"loss_weights: expected shape {list(shape)}, got {weights.shape}",
                )
        step = int(batch_size)
        if step < 1:
            fail(InvalidArgumentError, f"batch_size: expected >= 1, got {batch_size}")
        raw = model._model()
        for start in range(0, inputs.batch, step):
            part = slice(start, min(start + step, inputs.batch))
            t = inputs.time_of(part)
            kwargs = inputs.kwargs(part, t)
            kwargs.update(targets.kwargs(part, t))
            if weights is not None:
                w = weights[part]
                kwargs["loss_weights"] = np.ascontiguousarray(
                    w[:, :t] if w.ndim == 2 else w
                )
            with model._lock.read():
                handle.update(raw, **kwargs)

    def add_predictions(self, predicted: Any, targets: Any) -> None:
        """Adds class predictions computed elsewhere (any shapes with the
        same number of elements; no loss). Raises
        :class:`seqrnn.OutOfRangeError` for a class outside
        ``[0, num_classes)``; then nothing is added."""
        p = np.asarray(predicted)
        t = np.asarray(targets)
        for name, arr in (("predicted", p), ("targets", t)):
            if arr.size and arr.dtype.kind not in "iu":
                fail(
                    InvalidArgumentError,
                    f"{name}: expected integer class ids, got dtype {arr.dtype}",
                )
        if p.size != t.size:
            fail(
                ShapeError,
                f"predicted has {p.size} elements but targets has {t.size}",
            )
        if p.size and (
            min(p.min(), t.min()) < np.iinfo(np.int32).min
            or max(p.max(), t.max()) > np.iinfo(np.int32).max
        ):
            fail(
                InvalidArgumentError,
                f"class ids must be in [0, num_classes = {self.num_classes})",
            )
        self._h().add_predictions(
            np.ascontiguousarray(p.ravel(), dtype=np.int32),
            np.ascontiguousarray(t.ravel(), dtype=np.int32),
        )

    def result(self) -> dict[str, float]:
        """``loss``, ``perplexity``, ``bits_per_token``, ``accuracy``,
        ``precision``, ``recall``, ``f1`` (macro) and ``count``."""
        s = self._h().summary()
        return {
            "loss": s["loss"],
            "perplexity": s["perplexity"],
            "bits_per_token": s["bits_per_token"],
            "accuracy": s["accuracy"],
            "precision": s["macro_precision"],
            "recall": s["macro_recall"],
            "f1": s["macro_f1"],
            "count": int(s["count"]),
        }

    def per_class(self) -> dict[str, np.ndarray]:
        """Per-class ``precision``, ``recall``, ``f1`` (float64) and
        ``support`` (int64), each of length ``num_classes``."""
        h = self._h()
        rows = [h.class_metrics(c) for c in range(self.num_classes)]
        values = np.array([r[:3] for r in rows], dtype=np.float64).reshape(-1, 3)
        return {
            "precision": values[:, 0].copy(),
            "recall": values[:, 1].copy(),
            "f1": values[:, 2].copy(),
            "support": np.array([r[3] for r in rows], dtype=np.int64),
        }

    @property
    def confusion_matrix(self) -> np.ndarray:
        """Counts ``[target, predicted]``, int64 ``[num_classes,
        num_classes]``."""
        out = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        self._h().confusion(out)
        return out

    def close(self) -> None:
        """Frees the accumulator; later calls raise
        :class:`seqrnn.InvalidArgumentError`."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._handle is None:
            return f"Metrics(num_classes={self.num_classes}) (closed)"
        r = self.result()
        shown = ", ".join(
            f"{k}={r[k]:.4g}"
            for k in ("loss", "accuracy", "f1")
            if isinstance(r[k], float) and r[k] == r[k]
        )
        return f"Metrics(num_classes={self.num_classes}, count={r['count']}{', ' + shown if shown else ''})"


# -- ranking ----------------------------------------------------------------------


def roc_auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve of ``scores`` for binary ``labels`` (1 or
    True = positive): the probability that a random positive scores higher
    than a random negative, ties counting one half (the Mann-Whitney U
    statistic over the number of pairs, as
    ``sklearn.metrics.roc_auc_score``). 1 is a perfect ranking, 0.5 chance.
    Raises :class:`seqrnn.InvalidArgumentError` unless both classes occur,
    the labels are 0/1 and the scores are finite, and
    :class:`seqrnn.ShapeError` when the lengths differ.

    >>> from seqrnn.metrics import roc_auc
    >>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    >>> roc_auc([1, 1, 2], [0, 1, 1])    # one tie: (0.5 + 1) / 2
    0.75
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    raw = np.asarray(labels)
    if raw.dtype.kind not in "biuf":
        fail(
            InvalidArgumentError, f"labels: expected 0/1 values, got dtype {raw.dtype}"
        )
    y = raw.reshape(-1)
    if s.shape != y.shape:
        fail(
            ShapeError,
            f"scores and labels differ in length: {s.size} and {y.size}",
        )
    if not np.isin(y, (0, 1)).all():
        fail(InvalidArgumentError, "labels: expected only 0 and 1 (or booleans)")
    if not np.isfinite(s).all():
        fail(InvalidArgumentError, "scores: expected finite numbers")
    positive = y == 1
    n_pos = int(positive.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        fail(
            InvalidArgumentError,
            f"roc_auc needs both classes; got {n_pos} positive and {n_neg} negative labels",
        )
    # Mid-ranks (ties share the mean of their ranks): U = rank sum of the
    # positives minus its minimum n_pos * (n_pos + 1) / 2.
    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], s.size]
    ranks = np.empty(s.size, dtype=np.float64)
    # A tie group at sorted positions start..end-1 has ranks start+1..end.
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))
