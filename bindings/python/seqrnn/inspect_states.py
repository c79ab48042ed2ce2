"""A look inside a model: the hidden states, LSTM cell states and gate
activations of one layer at every step, as numpy arrays.

:meth:`seqrnn.Model.record` is the entry point; this module holds its logic
and the :class:`Recording` it returns. :mod:`seqrnn.plots` draws them.

>>> import numpy as np, seqrnn
>>> m = seqrnn.Model("lstm", vocab_size=6, hidden_size=4, num_layers=2, output_size=6)
>>> r = m.record([[1, 2, 3, 4], [5, 1]])          # the top layer by default
>>> r.hidden.shape, sorted(r.gates)
((2, 4, 4), ['cell', 'forget', 'input', 'output'])
>>> bool((r.hidden[1, 2:] == 0).all())           # zeros past a length
True
>>> r.gates["forget"].shape == r.cell.shape == r.hidden.shape
True
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._inputs import check_int
from .errors import InvalidArgumentError, OutOfRangeError, fail

if TYPE_CHECKING:
    from .model import Model, State

__all__ = ["GATE_NAMES", "Recording", "record"]

#: The gates a recording reports for each cell, in PyTorch's order (the
#: order of the gate blocks in ``weight_ih``/``weight_hh``). RNN cells have
#: no gates: their hidden state is their only activation.
GATE_NAMES: dict[str, tuple[str, ...]] = {
    "lstm": ("input", "forget", "cell", "output"),
    "gru": ("reset", "update", "new"),
    "rnn": (),
    "rnn_relu": (),
}


@dataclass(frozen=True)
class Recording:
    """One layer's activations at every step of a batch (float32 arrays,
    zeros at steps past each sequence's length).

    Attributes:
        hidden: hidden states ``[batch, time, directions * hidden_size]``,
            the layer's outputs (forward direction's units first, as
            PyTorch's ``output``). For the backward direction, step ``t``
            holds its state after reading step ``t``.
        cell: LSTM cell states, shaped like ``hidden``; None for other cells.
        gates: gate activations by name, each shaped like ``hidden``, after
            their nonlinearity: LSTM ``"input"``, ``"forget"``, ``"output"``
            (sigmoids) and ``"cell"`` (the tanh candidate ``g``); GRU
            ``"reset"``, ``"update"`` (sigmoids) and ``"new"`` (the tanh
            candidate ``n``). Empty for RNN cells.
        layer: the recorded layer (0 is next to the inputs).
        lengths: each sequence's length, ``[batch]`` int64.
        directions: 2 for bidirectional models, else 1.
    """

    hidden: np.ndarray
    cell: np.ndarray | None
    gates: dict[str, np.ndarray] = field(default_factory=dict)
    layer: int = 0
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    directions: int = 1


def record(
    model: Model,
    x: Any,
    lengths: Any = None,
    *,
    layer: int = -1,
    batch_size: int = 256,
    initial_state: State | None = None,
) -> Recording:
    """Runs ``model`` on ``x`` and records layer ``layer`` at every step; see
    :meth:`seqrnn.Model.record`."""
    from . import _seqrnn

    handle = model._model()
    L = model.num_layers
    if isinstance(layer, (bool, np.bool_)):
        fail(InvalidArgumentError, f"layer: expected an integer, got {layer!r}")
    try:
        index = operator.index(layer)
    except TypeError:
        fail(InvalidArgumentError, f"layer: expected an integer, got {layer!r}")
    if not -L <= index < L:
        fail(
            OutOfRangeError,
            f"layer={index} is outside [-{L}, {L}) for a model of {L} layer{'s' * (L > 1)}",
        )
    index %= L
    step = check_int(batch_size, "batch_size")
    inputs = model._inputs(x, lengths)
    h0, c0 = model._initial_state(initial_state, inputs.batch)
    N, T = inputs.batch, inputs.time
    sizes = _seqrnn.record_sizes(handle, 1, 1)  # per position
    G = int(sizes["gate_count"])
    D, H = model.num_directions, model.hidden_size
    lstm = model.cell == "lstm"
    hidden = np.zeros((N, T, D * H), np.float32)
    cell = np.zeros((N, T, D * H), np.float32) if lstm else None
    gates = np.zeros((N, T, D, G, H), np.float32)
    for start in range(0, N, step):
        part = slice(start, min(start + step, N))
        t = inputs.time_of(part)
        kwargs = inputs.kwargs(part, t)
        b = kwargs["batch_size"]
        if h0 is not None:
            kwargs["initial_h"] = np.ascontiguousarray(h0[:, part])
        if c0 is not None:
            kwargs["initial_c"] = np.ascontiguousarray(c0[:, part])
        h = np.empty((b, t, D * H), np.float32)
        c = np.empty((b, t, D * H), np.float32) if lstm else None
        g = np.empty((b, t, D, G, H), np.float32) if G else None
        with model._lock.read():
            _seqrnn.record(handle, index, h, c, g, **kwargs)
        hidden[part, :t] = h
        if c is not None:
            cell[part, :t] = c  # type: ignore[index]
        if g is not None:
            gates[part, :t] = g
    names = GATE_NAMES[model.cell]
    by_name = {
        name: np.ascontiguousarray(gates[:, :, :, k, :].reshape(N, T, D * H))
        for k, name in enumerate(names)
    }
    lens = inputs.lengths if inputs.lengths is not None else np.full(N, T, np.int64)
    return Recording(
        hidden=hidden,
        cell=cell,
        gates=by_name,
        layer=index,
        lengths=np.asarray(lens, np.int64).copy(),
        directions=D,
    )
