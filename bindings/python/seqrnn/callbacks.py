"""Callbacks for :meth:`seqrnn.Model.fit` and :meth:`seqrnn.Seq2Seq.fit`,
Keras style.

A callback is an object with any of these methods, called by ``fit``:

- ``on_train_begin(logs)`` and ``on_train_end(logs)``
- ``on_epoch_begin(epoch, logs)`` and ``on_epoch_end(epoch, logs)``: ``logs``
  holds the epoch's ``loss`` (and ``accuracy`` for cross-entropy models, and
  ``val_loss`` / ``val_accuracy`` with validation data)
- ``on_batch_begin(batch, logs)`` and ``on_batch_end(batch, logs)``: ``logs``
  holds the batch's own ``loss`` (and ``accuracy``) and its ``size``

(:meth:`seqrnn.Seq2Seq.fit` logs ``loss``, ``teacher_forcing`` and, with
validation data, ``val_loss``, ``val_token_accuracy`` and
``val_exact_match``.) Epochs and batches count from 0. Before training, ``fit`` sets
``callback.model`` (the model being trained) and ``callback.params`` (``epochs``,
``steps`` per epoch, ``batch_size``, ``samples``, ``verbose``, and ``metrics``:
the keys the epoch logs will have). Setting ``model.stop_training = True``
ends training after the current batch (the epoch is still completed:
validation and ``on_epoch_end`` run).

>>> import numpy as np, seqrnn
>>> model = seqrnn.Model("gru", input_size=1, hidden_size=4, output_size=1, output="last", loss="mse")
>>> x = np.zeros((8, 3, 1)); y = np.ones((8, 1))
>>> seen = []
>>> cb = seqrnn.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
>>> history = model.fit(x, y, epochs=3, batch_size=4, callbacks=[cb], verbose=0)
>>> seen
[0, 1, 2]
>>> sorted(history.history)
['loss']
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable

from . import _seqrnn

if TYPE_CHECKING:
    from .model import Model

__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback"]

Logs = dict[str, Any]

# Parts of metric names for which larger is better (EarlyStopping's "auto").
_MAXIMIZED = ("acc", "f1", "precision", "recall", "auc")


class Callback:
    """Base class of the callbacks of :meth:`seqrnn.Model.fit`: override the
    methods you need; each default does nothing.

    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(f"epoch {epoch}: loss {logs['loss']:.2f}")
    """

    model: Model | None
    params: dict[str, Any]

    def __init__(self) -> None:
        self.model = None
        self.params = {}

    def set_model(self, model: Model) -> None:
        """Called by ``fit`` before training with the model being trained."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Called by ``fit`` before training with the training parameters."""
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once when training starts."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once when training ends (also after an interruption)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the start of each epoch."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the end of each epoch with its metrics."""

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each training batch."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each training batch with the batch's metrics."""


class CallbackList:
    """Calls a list of callbacks in order (internal)."""

    def __init__(
        self, callbacks: Iterable[Any], model: Model, params: dict[str, Any]
    ) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if hasattr(cb, "set_model"):
                cb.set_model(model)
            else:
                cb.model = model
            if hasattr(cb, "set_params"):
                cb.set_params(params)
            else:
                cb.params = params

    def _call(self, method: str, *args: Any) -> None:
        for cb in self.callbacks:
            fn = getattr(cb, method, None)
            if fn is not None:
                fn(*args)

    def on_train_begin(self, logs: Logs) -> None:
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: Logs) -> None:
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch: int, logs: Logs) -> None:
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: Logs) -> None:
        self._call("on_batch_end", batch, logs)


class History(Callback):
    """What :meth:`seqrnn.Model.fit` returns: the metrics of each completed epoch.

    Attributes:
        history: ``{"loss": [...], "accuracy": [...], "val_loss": [...], ...}``,
            one entry per completed epoch.
        epoch: the indices of the completed epochs.
        params: the training parameters (see :mod:`seqrnn.callbacks`).
        interrupted: True if training was stopped by Ctrl-C (KeyboardInterrupt).
        stopped_early: True if a callback set ``model.stop_training``.

    >>> h = History()
    >>> h.on_epoch_end(0, {"loss": 0.5}); h.on_epoch_end(1, {"loss": 0.25})
    >>> h.history, h.epoch
    ({'loss': [0.5, 0.25]}, [0, 1])
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.interrupted = False
        self.stopped_early = False

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.history = {}
        self.epoch = []
        self.interrupted = False
        self.stopped_early = False

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        extra = ", interrupted" if self.interrupted else ""
        return f"<History: {len(self.epoch)} epochs{', last ' + parts if parts else ''}{extra}>"


class EarlyStopping(Callback):
    """Stops training when a metric has stopped improving.

    Args:
        monitor: the epoch log to watch: ``"val_loss"`` (needs validation
            data), ``"loss"``, ``"accuracy"``, or for cross-entropy models
            with validation data ``"val_accuracy"`` and the macro averages
            ``"val_precision"``, ``"val_recall"``, ``"val_f1"`` (see
            :meth:`seqrnn.Model.fit`).
        patience: epochs without improvement after which training stops
            (0 and 1 both stop after the first epoch without improvement).
        min_delta: an epoch improves on the best only when it beats it by
            more than this.
        mode: ``"min"``, ``"max"``, or ``"auto"``: max when the name contains
            ``acc``, ``f1``, ``precision``, ``recall`` or ``auc``, else min.
        restore_best_weights: at the end of training, put back the weights of
            the best epoch (if it is not the last one). The library keeps a
            copy of the best weights (``seqrnn_early_stopping``; for a
            :class:`~seqrnn.Seq2Seq`, its ``state_dict()``), so this costs
            one copy of the weights per improvement.
        verbose: 1 prints a line when stopping or restoring.

    A NaN or infinite value never counts as an improvement. After training,
    ``best``, ``best_epoch`` and ``stopped_epoch`` (None if it did not stop
    training) tell what happened.

    >>> EarlyStopping(monitor="loss", patience=2).mode_is_max
    False
    >>> EarlyStopping(monitor="val_f1").mode_is_max
    True
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        verbose: int = 0,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}"
            )
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if not math.isfinite(float(min_delta)):
            raise ValueError(
                f"EarlyStopping: min_delta must be finite, got {min_delta!r}"
            )
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self.verbose = verbose
        self.mode_is_max = mode == "max" or (
            mode == "auto" and any(part in monitor.lower() for part in _MAXIMIZED)
        )
        self._tracker: Any | None = None
        # Models without a library tracker (Seq2Seq) keep a state_dict copy.
        self._keeps_copy = False
        self._best_weights: dict[str, Any] | None = None
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best = -math.inf if self.mode_is_max else math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._last_epoch: int | None = None
        self._best_weights = None
        self._close_tracker()

    def _close_tracker(self) -> None:
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None

    def _improved(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.mode_is_max:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._reset()
        metrics = self.params.get("metrics")
        if metrics is not None and self.monitor not in metrics:
            raise ValueError(
                f"EarlyStopping: monitor={self.monitor!r} is not one of this training's metrics {list(metrics)}"
                + (
                    " (val_* metrics need validation_data)"
                    if self.monitor.startswith("val_")
                    else ""
                )
            )
        self._keeps_copy = False
        if self.restore_best_weights and self.model is not None:
            if not hasattr(self.model, "_model"):
                self._keeps_copy = True
                return
            # Same rule as _improved, so it keeps exactly the best epoch's
            # weights.
            self._tracker = _seqrnn.EarlyStopping(
                self.mode_is_max, self.patience, self.min_delta
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        self._last_epoch = epoch
        if self.monitor not in logs:
            warnings.warn(
                f"EarlyStopping: {self.monitor!r} is not in the logs {sorted(logs)}",
                stacklevel=2,
            )
            return
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self._keeps_copy and self.model is not None:
                self._best_weights = self.model.state_dict()
            if self._tracker is not None and self.model is not None:
                with self.model._lock.read():
                    self._tracker.update(self.model._model(), value)
            return
        if (
            self._tracker is not None
            and self.model is not None
            and math.isfinite(value)
        ):
            with self.model._lock.read():
                self._tracker.update(self.model._model(), value)
        self.wait += 1
        if self.wait >= max(self.patience, 1) and self.model is not None:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(
                    f"EarlyStopping: {self.monitor} did not improve for {self.wait} epochs; stopping after epoch {epoch + 1}"
                )

    def on_train_end(self, logs: Logs | None = None) -> None:
        try:
            if (
                self._best_weights is not None
                and self.model is not None
                and self.best_epoch != self._last_epoch
            ):
                self.model.load_state_dict(self._best_weights)
                if self.verbose:
                    print(
                        f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1} ({self.monitor} = {self.best:.4g})"
                    )
            if (
                self._tracker is not None
                and self.model is not None
                and self.best_epoch is not None
                and self.best_epoch != self._last_epoch
            ):
                with self.model._lock.write():
                    self._tracker.restore(self.model._model())
                if self.verbose:
                    print(
                        f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1} ({self.monitor} = {self.best:.4g})"
                    )
        finally:
            self._close_tracker()


class LambdaCallback(Callback):
    """A callback made of plain functions, each optional.

    >>> losses = []
    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    >>> cb.on_epoch_end(0, {"loss": 1.5}); losses
    [1.5]
    """

    def __init__(
        self,
        on_train_begin: Callable[[Logs], None] | None = None,
        on_train_end: Callable[[Logs], None] | None = None,
        on_epoch_begin: Callable[[int, Logs], None] | None = None,
        on_epoch_end: Callable[[int, Logs], None] | None = None,
        on_batch_begin: Callable[[int, Logs], None] | None = None,
        on_batch_end: Callable[[int, Logs], None] | None = None,
    ) -> None:
        super().__init__()
        functions = {
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_batch_begin": on_batch_begin,
            "on_batch_end": on_batch_end,
        }
        for method, fn in functions.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(
                        f"LambdaCallback: {method} must be callable, got {fn!r}"
                    )
                setattr(self, method, fn)
