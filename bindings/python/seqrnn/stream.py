"""Step-by-step inference: :class:`Stream`, made by :meth:`seqrnn.Model.stream`.

A stream keeps the recurrent state of ``batch_size`` sequences between calls,
so a program can feed one time step at a time (live sensor data, token by
token generation) and get, at each step, exactly the output a full
:meth:`~seqrnn.Model.predict` over the sequence so far gives at that step.

>>> import numpy as np, seqrnn
>>> model = seqrnn.Model("lstm", input_size=2, hidden_size=4, output_size=3, seed=1)
>>> x = np.random.default_rng(0).normal(size=(1, 5, 2)).astype(np.float32)
>>> full = model.predict(x)                         # [1, 5, 3]
>>> with model.stream() as s:
...     steps = [s.step(x[:, t]) for t in range(5)]  # each [1, 3]
>>> np.allclose(np.stack(steps, axis=1), full, atol=1e-6)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _seqrnn
from ._inputs import _as_array, _floats, _integers, check_int, shape_text
from .errors import (
    InvalidArgumentError,
    NonFiniteError,
    OutOfRangeError,
    ShapeError,
    UnsupportedError,
    fail,
)

if TYPE_CHECKING:
    from typing_extensions import Self  # Python 3.11: typing.Self

    from .model import Model

__all__ = ["Stream"]


class Stream:
    """Streaming state of a unidirectional model; see :meth:`seqrnn.Model.stream`.

    Attributes:
        model: the model it runs.
        batch_size: how many sequences it advances at each step.

    The state starts at zeros. ``hidden`` (and ``cell`` for LSTM models) give
    a copy of the current state, ``[num_layers, batch_size, hidden_size]``
    (PyTorch's ``h_n``/``c_n`` layout), and can be assigned. One thread at a
    time may use a stream; many streams may share one model.

    >>> import seqrnn
    >>> model = seqrnn.Model("gru", vocab_size=10, hidden_size=4, num_layers=2, output_size=10)
    >>> s = model.stream(batch_size=3)
    >>> s.step([1, 2, 3]).shape       # one token per sequence
    (3, 10)
    >>> s.hidden.shape
    (2, 3, 4)
    >>> s.reset(); float(abs(s.hidden).max())
    0.0
    """

    def __init__(self, model: Model, batch_size: int = 1) -> None:
        batch_size = check_int(batch_size, "batch_size")
        if model.bidirectional:
            fail(
                UnsupportedError,
                "stream: a bidirectional model cannot run step by step (its backward direction needs the whole "
                "sequence); use predict() instead",
            )
        self.model = model
        self.batch_size: int = batch_size
        with model._lock.read():
            self._state: Any | None = _seqrnn.State(model._model(), batch_size)
        self._shape = (model.num_layers, batch_size, model.hidden_size)

    def _handle(self) -> Any:
        if self._state is None:
            fail(InvalidArgumentError, "this Stream is closed")
        return self._state

    def step(self, x_t: Any) -> np.ndarray:
        """Advances every sequence by one step and returns the outputs of that
        step, ``[batch_size, output_size]`` (logits for cross-entropy models).

        ``x_t`` is, for token models, ``batch_size`` token ids (a scalar id when
        ``batch_size`` is 1); for feature models ``[batch_size, input_size]``
        floats (``[input_size]`` when ``batch_size`` is 1). An unbatched input
        gives an unbatched ``[output_size]`` result.
        """
        state = self._handle()
        model = self.model
        arr = _as_array(x_t, "x_t")
        if arr.dtype.kind in "OUSV":
            fail(
                InvalidArgumentError,
                f"x_t: expected numbers, got an array of dtype {arr.dtype}",
            )
        B = self.batch_size
        if model.vocab_size is not None:
            unbatched = arr.ndim == 0
            if unbatched:
                arr = arr.reshape(1)
            if arr.shape != (B,) or (unbatched and B != 1):
                fail(
                    ShapeError,
                    f"x_t: expected {B} token ids, shape {shape_text([B])}, got shape {np.shape(x_t)}",
                )
            ids = _integers(arr, "x_t", "token ids")
            bad = np.flatnonzero((ids < 0) | (ids >= model.vocab_size))
            if bad.size:
                i = int(bad[0])
                fail(
                    OutOfRangeError,
                    f"x_t[{i}]: token id {int(ids[i])} is out of range [0, {model.vocab_size})",
                )
            kwargs = {"tokens": np.ascontiguousarray(ids, dtype=np.int32)}
        else:
            unbatched = arr.ndim == 1
            if unbatched:
                arr = arr.reshape(1, -1)
            expected = (B, model.input_size)
            if arr.shape != expected or (unbatched and B != 1):
                fail(
                    ShapeError,
                    f"x_t: expected features shaped {shape_text(expected)}, got shape {np.shape(x_t)}",
                )
            feats = _floats(arr, "x_t", "features")
            if not np.isfinite(feats).all():
                fail(NonFiniteError, "x_t: features must be finite")
            kwargs = {"features": np.ascontiguousarray(feats, dtype=np.float32)}
        out = np.empty((B, model.output_size), dtype=np.float32)
        with model._lock.read():
            state.step(out, **kwargs)
        return out[0] if unbatched else out

    def reset(self) -> None:
        """Sets the state of every sequence back to zeros."""
        self._handle().reset()

    def _get(self) -> tuple[np.ndarray, np.ndarray | None]:
        h = np.empty(self._shape, dtype=np.float32)
        c = (
            np.empty(self._shape, dtype=np.float32)
            if self.model.cell == "lstm"
            else None
        )
        self._handle().get(h, c)
        return h, c

    def _check(self, value: Any, name: str) -> np.ndarray:
        arr = _floats(_as_array(value, name), name, "states")
        if arr.shape != self._shape:
            fail(
                ShapeError,
                f"{name}: expected shape [num_layers, batch_size, hidden_size] = {shape_text(self._shape)}, got shape {arr.shape}",
            )
        if not np.isfinite(arr).all():
            fail(NonFiniteError, f"{name}: states must be finite")
        return np.ascontiguousarray(arr, dtype=np.float32)

    @property
    def hidden(self) -> np.ndarray:
        """The hidden state, ``[num_layers, batch_size, hidden_size]`` (a copy)."""
        return self._get()[0]

    @hidden.setter
    def hidden(self, value: Any) -> None:
        h = self._check(value, "hidden")
        _, c = self._get()
        self._handle().set(h, c)

    @property
    def cell(self) -> np.ndarray:
        """The LSTM cell state, ``[num_layers, batch_size, hidden_size]`` (a copy)."""
        if self.model.cell != "lstm":
            fail(
                UnsupportedError,
                f"cell: only LSTM models have a cell state (this model's cell is {self.model.cell!r})",
            )
        c = self._get()[1]
        assert c is not None
        return c

    @cell.setter
    def cell(self, value: Any) -> None:
        if self.model.cell != "lstm":
            fail(
                UnsupportedError,
                f"cell: only LSTM models have a cell state (this model's cell is {self.model.cell!r})",
            )
        c = self._check(value, "cell")
        h, _ = self._get()
        self._handle().set(h, c)

    def close(self) -> None:
        """Frees the state; the stream cannot be used afterwards."""
        if self._state is not None:
            self._state.close()
            self._state = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        status = " closed" if self._state is None else ""
        return f"<seqrnn.Stream batch_size={self.batch_size} of {self.model!r}{status}>"
