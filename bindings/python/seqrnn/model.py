"""The :class:`Model` class: a recurrent network (RNN, LSTM or GRU) with a
dense output head, trained and run on numpy arrays.

>>> import numpy as np, seqrnn
>>> model = seqrnn.Model("lstm", input_size=3, hidden_size=16, output_size=2, output="last")
>>> model
Model(cell='lstm', input_size=3, hidden_size=16, num_layers=1, bidirectional=False, output_size=2, output='last', loss='cross_entropy', seed=0)
>>> x = np.random.default_rng(0).normal(size=(32, 10, 3))   # [batch, time, features]
>>> y = (x[:, :, 0].sum(axis=1) > 0).astype(int)              # one class per sequence
>>> history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
>>> sorted(history.history)
['accuracy', 'loss']
>>> model.predict(x).shape
(32, 2)
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Union

import numpy as np

from . import _seqrnn
from . import generation as _generation
from ._inputs import (
    Inputs,
    Targets,
    attach_weights,
    check_float,
    check_int,
    check_path,
    optional_int,
    prepare_inputs,
    prepare_state,
    prepare_targets,
    shape_text,
)
from ._lock import RWLock
from ._progress import ProgressBar
from .callbacks import Callback, CallbackList, History
from .errors import (
    InvalidArgumentError,
    NonFiniteError,
    OutOfRangeError,
    ShapeError,
    UnknownNameError,
    UnsupportedError,
    fail,
)
from .inspect_states import Recording
from .inspect_states import record as record_states
from .stream import Stream
from .streams import fit_stream

if TYPE_CHECKING:
    from typing_extensions import Self  # Python 3.11: typing.Self

__all__ = ["IncompatibleKeys", "Model", "load"]

PathLike = Union[str, "os.PathLike[str]"]
State = Union[np.ndarray, tuple[np.ndarray, np.ndarray]]

_CELLS = {
    "rnn": 0,
    "rnn_tanh": 0,
    "tanh": 0,
    "rnn_relu": 1,
    "relu": 1,
    "lstm": 2,
    "gru": 3,
}
_CELL_NAMES = {0: "rnn", 1: "rnn_relu", 2: "lstm", 3: "gru"}
_OUTPUTS = {"sequence": 0, "last": 1}
_OUTPUT_NAMES = {0: "sequence", 1: "last"}
_LOSSES = {"cross_entropy": 0, "crossentropy": 0, "ce": 0, "mse": 1}
_LOSS_NAMES = {0: "cross_entropy", 1: "mse"}
_OPTIMIZERS = {"sgd": 0, "adam": 1, "adamw": 2, "rmsprop": 3}

_PREDICT_BATCH = 256

_INITS = {"pytorch": 0, "xavier": 1, "glorot": 1, "orthogonal": 2}
_PRECISIONS = {"float32": 0, "bfloat16": 1, "bf16": 1}
_PRECISION_NAMES = ("float32", "bfloat16")
_INIT_NAMES = {0: "pytorch", 1: "xavier", 2: "orthogonal"}


def _choice(value: Any, table: dict[str, int], name: str, shown: Iterable[str]) -> int:
    if isinstance(value, str) and value.lower() in table:
        return table[value.lower()]
    options = ", ".join(repr(s) for s in shown)
    fail(InvalidArgumentError, f"{name}: expected one of {options}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class _Config:
    """A model's configuration, as the constructor takes it."""

    cell: str
    vocab_size: int | None
    input_size: int
    hidden_size: int
    num_layers: int
    bidirectional: bool
    output_size: int
    output: str
    loss: str
    seed: int
    dropout: float = 0.0
    head_dropout: float = 0.0
    recurrent_dropout: float = 0.0
    zoneout: float = 0.0
    init: str = "pytorch"
    forget_bias_one: bool = False


class IncompatibleKeys(NamedTuple):
    """What :meth:`Model.load_state_dict` did not match (as PyTorch's)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Model:
    """A recurrent network: an optional token embedding, ``num_layers`` stacked
    recurrent layers (optionally bidirectional), and a dense head.

    Args:
        cell: ``"lstm"``, ``"gru"``, ``"rnn"`` (tanh) or ``"rnn_relu"``;
            PyTorch's equations and gate orders.
        input_size: features per time step (feature models). For token models,
            the embedding width (default: ``hidden_size``).
        vocab_size: give it for token models: inputs are integer ids in
            ``[0, vocab_size)`` through a learned embedding.
        hidden_size: units per layer and direction.
        num_layers: stacked recurrent layers.
        bidirectional: add a backward direction to every layer.
        output_size: classes (cross-entropy) or values (MSE) of the head.
        output: ``"sequence"`` (an output at every step, ``[batch, time,
            output_size]``) or ``"last"`` (one per sequence, ``[batch,
            output_size]``, from its last valid step; bidirectional: the
            backward direction's first step).
        loss: ``"cross_entropy"`` (targets are class ids; outputs are logits)
            or ``"mse"`` (targets are values shaped like the outputs).
        seed: weight initialisation seed (PyTorch's default distributions);
            same seed, same weights.
        dropout: dropout on the outputs of every layer but the last
            (PyTorch's ``nn.LSTM(dropout=...)``), in ``[0, 1)``.
        head_dropout: dropout on the head's inputs.
        recurrent_dropout: variational dropout on the previous hidden state
            entering the recurrent weights: one mask per sequence, reused at
            every step (Gal and Ghahramani; Keras's ``recurrent_dropout``).
        zoneout: probability that a unit keeps its previous hidden (and LSTM
            cell) value at a training step; prediction uses the expectation.
            Dropout acts only in ``fit``; prediction never drops.
        init: ``"pytorch"`` (default), ``"xavier"`` (Glorot uniform per gate,
            zero biases) or ``"orthogonal"`` (orthogonal recurrent weights,
            Keras's default).
        forget_bias_one: LSTM forget-gate biases start at 1.
        precision: ``"float32"`` (default) or ``"bfloat16"``, the arithmetic
            of the matrix products; see :attr:`precision`.

    Give ``input_size`` for float inputs ``[batch, time, input_size]`` or
    ``vocab_size`` for token inputs ``[batch, time]``. Weights use PyTorch's
    names and shapes (:meth:`state_dict`), so a trained ``nn.LSTM``'s weights
    load unchanged. Errors are :class:`seqrnn.Error` subclasses.

    A model may be used for ``predict``/``evaluate``/streams by many threads at
    once; ``fit`` and ``load_state_dict`` wait for running predictions and
    vice versa.

    >>> import seqrnn
    >>> m = seqrnn.Model("gru", vocab_size=50, hidden_size=32, num_layers=2, output_size=50)
    >>> m.cell, m.vocab_size, m.input_size, m.num_layers
    ('gru', 50, 32, 2)
    >>> list(m.state_dict())[:3]
    ['embedding.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0']
    """

    stop_training: bool
    history: History | None

    def __init__(
        self,
        cell: str = "lstm",
        *,
        input_size: int | None = None,
        vocab_size: int | None = None,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        output_size: int,
        output: str = "sequence",
        loss: str = "cross_entropy",
        seed: int = 0,
        dropout: float = 0.0,
        head_dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        init: str = "pytorch",
        forget_bias_one: bool = False,
        precision: str = "float32",
    ) -> None:
        precision_id = _choice(precision, _PRECISIONS, "precision", _PRECISION_NAMES)
        cell_id = _choice(cell, _CELLS, "cell", ("lstm", "gru", "rnn", "rnn_relu"))
        if input_size is None and vocab_size is None:
            fail(
                InvalidArgumentError,
                "Model: give input_size (float feature inputs [batch, time, input_size]) or vocab_size "
                "(integer token inputs [batch, time])",
            )
        vocab = optional_int(vocab_size, "vocab_size")
        width = optional_int(input_size, "input_size")
        hidden = check_int(hidden_size, "hidden_size")
        layers = check_int(num_layers, "num_layers")
        outputs = check_int(output_size, "output_size")
        seed_value = check_int(seed, "seed", minimum=0)
        if seed_value >= 2**64:
            fail(
                InvalidArgumentError,
                f"seed: expected an integer in [0, 2**64), got {seed_value}",
            )
        if not isinstance(bidirectional, (bool, np.bool_)) and bidirectional not in (
            0,
            1,
        ):
            fail(
                InvalidArgumentError,
                f"bidirectional: expected True or False, got {bidirectional!r}",
            )
        mode = _choice(output, _OUTPUTS, "output", ("sequence", "last"))
        loss_id = _choice(loss, _LOSSES, "loss", ("cross_entropy", "mse"))
        init_id = _choice(init, _INITS, "init", ("pytorch", "xavier", "orthogonal"))
        rates = {}
        for name, rate in (
            ("dropout", dropout),
            ("head_dropout", head_dropout),
            ("recurrent_dropout", recurrent_dropout),
            ("zoneout", zoneout),
        ):
            if isinstance(rate, bool) or not isinstance(
                rate, (int, float, np.floating)
            ):
                fail(
                    InvalidArgumentError,
                    f"{name}: expected a number in [0, 1), got {rate!r}",
                )
            if not 0 <= float(rate) < 1:
                fail(
                    InvalidArgumentError,
                    f"{name}: expected a number in [0, 1), got {rate!r}",
                )
            rates[name] = float(rate)
        handle = _seqrnn.Model(
            cell=cell_id,
            input_size=width or 0,
            vocab_size=vocab or 0,
            hidden_size=hidden,
            num_layers=layers,
            bidirectional=bool(bidirectional),
            output_size=outputs,
            output_mode=mode,
            loss=loss_id,
            seed=seed_value,
            init=init_id,
            forget_bias_one=bool(forget_bias_one),
            **rates,
        )
        if precision_id:
            handle.set_precision(precision_id)
        self._setup(handle)

    # -- construction helpers -------------------------------------------------

    def _setup(self, handle: Any) -> None:
        self._m: Any | None = handle
        self._lock = RWLock()
        self._trainer: Any | None = None
        self._trainer_key: tuple[Any, ...] | None = None
        self.stop_training = False
        self.history = None
        p = handle.params()
        vocab = int(p["vocab_size"]) or None
        width = int(p["input_size"]) or int(p["hidden_size"])
        if vocab is not None:
            # Token models: the embedding width is the first layer's input.
            shapes = dict(handle.tensors())
            width = int(shapes["embedding.weight"][1])
        self._config = _Config(
            cell=_CELL_NAMES[int(p["cell"])],
            vocab_size=vocab,
            input_size=width,
            hidden_size=int(p["hidden_size"]),
            num_layers=int(p["num_layers"]),
            bidirectional=bool(p["bidirectional"]),
            output_size=int(p["output_size"]),
            output=_OUTPUT_NAMES[int(p["output_mode"])],
            loss=_LOSS_NAMES[int(p["loss"])],
            seed=int(p.get("seed", 0)),
            dropout=round(float(p.get("dropout", 0.0)), 7),
            head_dropout=round(float(p.get("head_dropout", 0.0)), 7),
            recurrent_dropout=round(float(p.get("recurrent_dropout", 0.0)), 7),
            zoneout=round(float(p.get("zoneout", 0.0)), 7),
            init=_INIT_NAMES.get(int(p.get("init", 0)), "pytorch"),
            forget_bias_one=bool(p.get("forget_bias_one", False)),
        )

    @classmethod
    def _wrap(cls, handle: Any) -> Model:
        model = cls.__new__(cls)
        model._setup(handle)
        return model

    @classmethod
    def load(cls, path: PathLike) -> Model:
        """Loads a model saved by :meth:`save` (same as :func:`seqrnn.load`).

        Raises :class:`seqrnn.FileError` (an ``OSError``) if the file cannot be
        read and :class:`seqrnn.FormatError` (also an ``OSError``) if it is not a
        seqrnn model file or was written by a newer version.
        """
        return cls._wrap(_seqrnn.Model.load(check_path(path)))

    def _model(self) -> Any:
        if self._m is None:
            fail(InvalidArgumentError, "this Model is closed")
        return self._m

    # -- configuration ----------------------------------------------------------

    @property
    def cell(self) -> str:
        """``"lstm"``, ``"gru"``, ``"rnn"`` or ``"rnn_relu"``."""
        return self._config.cell

    @property
    def input_size(self) -> int:
        """Features per step (feature models) or embedding width (token models)."""
        return self._config.input_size

    @property
    def vocab_size(self) -> int | None:
        """Number of token ids for token models, None for feature models."""
        return self._config.vocab_size

    @property
    def hidden_size(self) -> int:
        """Units per layer and direction."""
        return self._config.hidden_size

    @property
    def num_layers(self) -> int:
        """Stacked recurrent layers."""
        return self._config.num_layers

    @property
    def bidirectional(self) -> bool:
        """Whether every layer also runs backwards."""
        return self._config.bidirectional

    @property
    def num_directions(self) -> int:
        """2 for bidirectional models, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Classes (cross-entropy) or values (MSE) per output."""
        return self._config.output_size

    @property
    def output(self) -> str:
        """``"sequence"`` or ``"last"``."""
        return self._config.output

    @property
    def loss(self) -> str:
        """``"cross_entropy"`` or ``"mse"``."""
        return self._config.loss

    @property
    def seed(self) -> int:
        """The weight initialisation seed the model was created with."""
        return self._config.seed

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this architecture:
        ``seqrnn.Model(**model.config)``."""
        config = dataclasses.asdict(self._config)
        if config["vocab_size"] is None:
            del config["vocab_size"]
        return config

    @property
    def precision(self) -> str:
        """The arithmetic of the matrix products: ``"float32"`` (default) or
        ``"bfloat16"``.

        ``"bfloat16"`` is an opt-in for speed on CPUs with AMX (Intel Xeon 4th
        generation and later; :func:`seqrnn.precision_available` tells):
        every matrix product rounds its inputs to bfloat16 and sums in
        float32, while weights, states, the loss and the optimizer stay
        float32 (mixed precision). Results then differ from float32 by about
        1e-2 relative; training loss stays within 1% of float32's on the
        char-rnn benchmark. A compute setting: not saved with the model (a
        loaded model starts in float32). Setting it raises
        :class:`seqrnn.UnsupportedError` where the machine cannot run it.
        """
        with self._lock.read():
            return _PRECISION_NAMES[int(self._model().get_precision())]

    @precision.setter
    def precision(self, value: str) -> None:
        chosen = _choice(value, _PRECISIONS, "precision", _PRECISION_NAMES)
        with self._lock.write():
            self._model().set_precision(chosen)

    def count_params(self) -> int:
        """Number of trainable parameters.

        >>> import seqrnn
        >>> seqrnn.Model("rnn", input_size=2, hidden_size=3, output_size=1).count_params()
        25
        """
        with self._lock.read():
            return int(sum(int(np.prod(shape)) for _, shape in self._model().tensors()))

    def __repr__(self) -> str:
        c = self.config
        inputs = (
            f"vocab_size={c['vocab_size']}, input_size={c['input_size']}"
            if "vocab_size" in c
            else f"input_size={c['input_size']}"
        )
        closed = " (closed)" if self._m is None else ""
        return (
            f"Model(cell={c['cell']!r}, {inputs}, hidden_size={c['hidden_size']}, num_layers={c['num_layers']}, "
            f"bidirectional={c['bidirectional']}, output_size={c['output_size']}, output={c['output']!r}, "
            f"loss={c['loss']!r}, seed={c['seed']}){closed}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.config, self.state_dict()))

    # -- inputs ---------------------------------------------------------------

    def _inputs(
        self, x: Any, lengths: Any, name: str = "x", lengths_name: str = "lengths"
    ) -> Inputs:
        return prepare_inputs(
            x,
            lengths,
            tokens=self.vocab_size is not None,
            vocab_size=self.vocab_size or 0,
            input_size=self.input_size,
            name=name,
            lengths_name=lengths_name,
        )

    def _targets(self, y: Any, inputs: Inputs, name: str = "y") -> Targets:
        return prepare_targets(
            y,
            inputs,
            classes=self.loss == "cross_entropy",
            sequence=self.output == "sequence",
            output_size=self.output_size,
            name=name,
        )

    def _state_shape(self, batch: int) -> tuple[int, int, int]:
        return (self.num_layers * self.num_directions, batch, self.hidden_size)

    def _initial_state(
        self, initial_state: Any, batch: int
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        if initial_state is None:
            return None, None
        shape = self._state_shape(batch)
        if self.cell == "lstm":
            if not (
                isinstance(initial_state, (tuple, list)) and len(initial_state) == 2
            ):
                fail(
                    InvalidArgumentError,
                    f"initial_state: an LSTM takes a pair (h_0, c_0), each {shape_text(shape)}",
                )
            h, c = initial_state
            return prepare_state(h, "initial_state[0] (h_0)", shape), prepare_state(
                c, "initial_state[1] (c_0)", shape
            )
        if isinstance(initial_state, (tuple, list)) and len(initial_state) == 1:
            initial_state = initial_state[0]
        return prepare_state(initial_state, "initial_state", shape), None

    # -- inference ------------------------------------------------------------

    def predict(
        self,
        x: Any,
        lengths: Any = None,
        *,
        batch_size: int = _PREDICT_BATCH,
        initial_state: State | None = None,
        return_state: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, State]:
        """Runs the model on ``x`` and returns its outputs as float32.

        Args:
            x: token models: integer ids ``[batch, time]``; feature models:
                floats ``[batch, time, input_size]`` (float64 and other real
                dtypes are converted). Either may also be a list of
                variable-length sequences (``[time]`` ids or ``[time,
                input_size]`` arrays), padded for you.
            lengths: optional valid length of each sequence, in ``[1, time]``;
                steps past it are ignored. Given automatically for lists.
            batch_size: sequences per call into the library.
            initial_state: optional ``h_0`` ``[num_layers * directions, batch,
                hidden_size]`` (PyTorch's layout), a pair ``(h_0, c_0)`` for
                LSTMs; zeros by default.
            return_state: also return the final state ``h_n`` (``(h_n,
                c_n)`` for LSTMs), the state after each sequence's last valid
                step (the backward direction's: after its first step).

        Returns:
            ``[batch, time, output_size]`` for ``output="sequence"`` (zeros past
            each length), ``[batch, output_size]`` for ``output="last"``:
            logits for cross-entropy models (see :meth:`predict_proba`),
            values for MSE ones. With ``return_state``: ``(outputs, state)``.

        >>> import seqrnn
        >>> m = seqrnn.Model("lstm", vocab_size=5, hidden_size=4, output_size=5)
        >>> out = m.predict([[1, 2, 3], [4]])          # two sequences, padded
        >>> out.shape, bool((out[1, 1:] == 0).all())
        ((2, 3, 5), True)
        >>> out, (h, c) = m.predict([[1, 2, 3]], return_state=True)
        >>> h.shape
        (1, 1, 4)
        """
        model = self._model()
        inputs = self._inputs(x, lengths)
        step = check_int(batch_size, "batch_size")
        h0, c0 = self._initial_state(initial_state, inputs.batch)
        N, T, O = inputs.batch, inputs.time, self.output_size
        sequence = self.output == "sequence"
        out = np.zeros((N, T, O) if sequence else (N, O), dtype=np.float32)
        lstm = self.cell == "lstm"
        # Final states (filled only with return_state): [L * D, N, H].
        h_n = np.zeros(self._state_shape(N) if return_state else (0, 0, 0), np.float32)
        c_n = np.zeros_like(h_n)
        for start in range(0, N, step):
            part = slice(start, min(start + step, N))
            t = inputs.time_of(part)
            kwargs = inputs.kwargs(part, t)
            b = kwargs["batch_size"]
            direct = not sequence or t == T
            buffer = out[part] if direct else np.empty((b, t, O), dtype=np.float32)
            if h0 is not None:
                kwargs["initial_h"] = np.ascontiguousarray(h0[:, part])
            if c0 is not None:
                kwargs["initial_c"] = np.ascontiguousarray(c0[:, part])
            if return_state:
                kwargs["final_h"] = np.empty(self._state_shape(b), dtype=np.float32)
                if lstm:
                    kwargs["final_c"] = np.empty(self._state_shape(b), dtype=np.float32)
            with self._lock.read():
                model.forward(buffer, **kwargs)
            if not direct:
                out[part, :t] = buffer
            if return_state:
                h_n[:, part] = kwargs["final_h"]
                if lstm:
                    c_n[:, part] = kwargs["final_c"]
        if not return_state:
            return out
        return out, ((h_n, c_n) if lstm else h_n)

    def predict_proba(
        self, x: Any, lengths: Any = None, *, batch_size: int = _PREDICT_BATCH
    ) -> np.ndarray:
        """Class probabilities: the softmax of :meth:`predict`'s logits
        (cross-entropy models only). Past a sequence's length (``output=
        "sequence"``) the rows are zeros.

        >>> import seqrnn
        >>> m = seqrnn.Model("gru", input_size=1, hidden_size=4, output_size=3, output="last")
        >>> p = m.predict_proba([[[0.5], [1.0]]])
        >>> p.shape, round(float(p.sum()), 5)
        ((1, 3), 1.0)
        """
        if self.loss != "cross_entropy":
            fail(
                InvalidArgumentError,
                "predict_proba: only cross-entropy models output class scores; use predict()",
            )
        logits = self.predict(x, lengths, batch_size=batch_size)
        assert isinstance(logits, np.ndarray)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        p: np.ndarray = np.exp(shifted)
        p /= p.sum(axis=-1, keepdims=True)
        if self.output == "sequence":
            inputs_lengths = _lengths_of(x, lengths, logits.shape[1])
            if inputs_lengths is not None:
                p[np.arange(logits.shape[1])[None, :] >= inputs_lengths[:, None]] = 0
        return p

    def record(
        self,
        x: Any,
        lengths: Any = None,
        layer: int = -1,
        *,
        batch_size: int = _PREDICT_BATCH,
        initial_state: State | None = None,
    ) -> Recording:
        """A look inside: the hidden states, LSTM cell states and gate
        activations of recurrent layer ``layer`` at every step of ``x``.

        Args:
            x, lengths, batch_size, initial_state: as for :meth:`predict`.
            layer: which recurrent layer, ``0`` (next to the inputs) to
                ``num_layers - 1``; negative counts from the top (``-1``,
                the default, is the layer the head reads).

        Returns:
            a :class:`seqrnn.inspect_states.Recording`: ``hidden`` ``[batch,
            time, directions * hidden_size]``, ``cell`` (LSTM, same shape, else
            None) and ``gates``, a dict of the activated gates by name, each
            shaped like ``hidden`` (LSTM ``input``, ``forget``, ``cell``,
            ``output``; GRU ``reset``, ``update``, ``new``; none for RNN
            cells). Steps past a sequence's length are zeros. Draw them with
            :mod:`seqrnn.plots`.

        Raises :class:`seqrnn.OutOfRangeError` for a layer outside
        ``[-num_layers, num_layers)`` and :meth:`predict`'s errors.

        >>> import seqrnn
        >>> m = seqrnn.Model("gru", input_size=2, hidden_size=3, output_size=1, loss="mse")
        >>> r = m.record([[[0.5, -1.0], [1.0, 0.0]]])
        >>> r.hidden.shape, list(r.gates), r.cell is None
        ((1, 2, 3), ['reset', 'update', 'new'], True)
        """
        return record_states(
            self,
            x,
            lengths,
            layer=layer,
            batch_size=batch_size,
            initial_state=initial_state,
        )

    def evaluate(
        self,
        x: Any,
        y: Any,
        lengths: Any = None,
        *,
        batch_size: int = _PREDICT_BATCH,
        sample_weight: Any = None,
    ) -> dict[str, float]:
        """Loss (and accuracy for cross-entropy models) on ``x`` and targets ``y``,
        averaged over all valid positions; the model is not changed.

        ``sample_weight`` (like ``y`` without its output axis: ``[batch,
        time]`` or ``[batch]``) weighs each position's loss: the loss is
        ``sum(w * loss) / sum(w)``, and positions of weight 0 are left out.

        ``y``: cross-entropy: class ids ``[batch, time]`` (``output="sequence"``)
        or ``[batch]`` (``"last"``); MSE: values ``[batch, time, output_size]``
        or ``[batch, output_size]``. Lists of variable-length target sequences
        are padded like ``x``.

        >>> import seqrnn
        >>> m = seqrnn.Model("rnn", vocab_size=4, hidden_size=8, output_size=4)
        >>> sorted(m.evaluate([[0, 1, 2, 3]], [[1, 2, 3, 0]]))
        ['accuracy', 'loss']
        """
        self._model()  # a closed model fails here, before the input checks
        inputs = self._inputs(x, lengths)
        targets = attach_weights(self._targets(y, inputs), sample_weight, inputs)
        if targets.weights is not None and not targets.weights.any():
            fail(
                InvalidArgumentError, "sample_weight: every valid position has weight 0"
            )
        step = check_int(batch_size, "batch_size")
        return self._evaluate_prepared(inputs, targets, step)

    def stream(self, batch_size: int = 1) -> Stream:
        """A :class:`~seqrnn.Stream` for step-by-step inference of
        ``batch_size`` sequences (unidirectional models only).

        >>> import seqrnn
        >>> m = seqrnn.Model("lstm", input_size=2, hidden_size=3, output_size=1, loss="mse")
        >>> s = m.stream()
        >>> s.step([0.1, 0.2]).shape, s.hidden.shape, s.cell.shape
        ((1,), (1, 1, 3), (1, 1, 3))
        """
        self._model()
        return Stream(self, batch_size)

    def generate(
        self,
        prime: Any,
        n: int,
        temperature: float = 1.0,
        seed: int | None = None,
        *,
        top_k: int = 0,
        top_p: float = 1.0,
        greedy: bool = False,
    ) -> list[int] | list[list[int]]:
        """Samples ``n`` token ids that follow ``prime`` (a token model whose
        ``output_size`` equals its ``vocab_size``, e.g. a character model).

        The prime (a non-empty list or 1-D array of ids) is run through the
        model, then each new id is drawn and fed back: from ``softmax(logits /
        temperature)``, restricted to the ``top_k`` most likely ids (0: all)
        and to the smallest set of most likely ids whose probability reaches
        ``top_p`` (1: all); ``greedy=True`` or ``temperature=0`` always takes
        the most likely id (see :mod:`seqrnn.generation`). ``seed`` makes the
        sampling repeatable. Returns the ``n`` new ids (without the prime).

        A list of primes (or a 2-D array) runs them all together and returns
        one list per prime; prime ``b`` samples with seed ``seed + b``, so it
        gets what it gets alone with that seed.

        >>> import seqrnn
        >>> m = seqrnn.Model("gru", vocab_size=8, hidden_size=16, output_size=8, seed=3)
        >>> a = m.generate([1, 2, 3], 5, seed=42)
        >>> len(a), a == m.generate([1, 2, 3], 5, seed=42)
        (5, True)
        >>> batch = m.generate([[1, 2, 3], [4]], 5, seed=42, top_k=3)
        >>> len(batch), batch[1] == m.generate([4], 5, seed=43, top_k=3)
        (2, True)
        """
        return _generation.generate(
            self, prime, n, temperature, seed, top_k=top_k, top_p=top_p, greedy=greedy
        )

    def surprisal(self, x: Any, y: Any, lengths: Any = None) -> np.ndarray:
        """Per-step surprisal: the negative log-likelihood in nats,
        ``-log softmax(outputs)[y]``, of each target class ``y`` at each step
        of ``x`` (a cross-entropy model with ``output="sequence"``; for a
        language model ``y`` is ``x`` shifted by one step).

        ``x``, ``y`` and ``lengths`` are taken as by :meth:`evaluate`. Returns
        float32 ``[batch, time]``; steps past a sequence's length are 0, so
        ``s.sum(axis=1) / lengths`` is each sequence's mean surprisal, and
        the mean over all valid steps is :meth:`evaluate`'s loss.

        >>> import numpy as np, seqrnn
        >>> m = seqrnn.Model("lstm", vocab_size=5, hidden_size=8, output_size=5, seed=1)
        >>> s = m.surprisal([[1, 2, 3], [4, 0]], [[2, 3, 4], [0, 1]])
        >>> s.shape, float(s[1, 2])
        ((2, 3), 0.0)
        >>> loss = m.evaluate([[1, 2, 3], [4, 0]], [[2, 3, 4], [0, 1]])["loss"]
        >>> bool(np.isclose(s.sum() / 5, loss))  # 5 valid steps
        True
        """
        return _generation.surprisal(self, x, y, lengths)

    # -- training ------------------------------------------------------------

    def fit(
        self,
        x: Any,
        y: Any,
        lengths: Any = None,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        optimizer: str = "adam",
        lr: float = 1e-3,
        clip_norm: float | None = None,
        momentum: float = 0.0,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        nesterov: bool = False,
        rmsprop_alpha: float = 0.99,
        l2: float = 0.0,
        weight_decay: float = 0.0,
        clip_value: float | None = None,
        schedule: str | None = None,
        step_size: int = 1000,
        gamma: float = 0.1,
        warmup_steps: int = 0,
        total_steps: int | None = None,
        min_lr: float = 0.0,
        patience: int = 10,
        monitor: str = "val_loss",
        freeze: Iterable[str] = (),
        checkpoint: PathLike | None = None,
        checkpoint_every: int | None = None,
        resume: bool = False,
        on_nonfinite: str = "raise",
        validation_data: tuple[Any, ...] | None = None,
        shuffle: bool | Callable[[int], Any] = True,
        callbacks: Iterable[Callback] = (),
        verbose: int = 1,
        seed: int | None = 0,
        sample_weight: Any = None,
    ) -> History:
        """Trains the model on ``x`` and targets ``y`` (see :meth:`predict` and
        :meth:`evaluate` for their shapes) and returns a :class:`~seqrnn.History`.

        Args:
            sample_weight: loss weight of each position (``[batch, time]``)
                or sequence (``[batch]``), as in :meth:`evaluate`.
            epochs: passes over the data.
            batch_size: sequences per optimizer step.
            optimizer: ``"adam"``, ``"adamw"`` (with ``beta1``, ``beta2``,
                ``epsilon``), ``"sgd"`` (with ``momentum``, ``nesterov``) or
                ``"rmsprop"`` (with ``rmsprop_alpha``, ``epsilon``,
                ``momentum``), each as its ``torch.optim`` namesake.
            lr: learning rate (the base rate of ``schedule``).
            clip_norm: clip the gradients to this global L2 norm (None: off).
            momentum: SGD and RMSprop momentum, in ``[0, 1)``.
            nesterov: SGD with Nesterov momentum (needs ``momentum > 0``).
            rmsprop_alpha: RMSprop's smoothing constant.
            l2: L2 penalty added to the gradients, ``g += l2 * w`` (torch's
                ``weight_decay`` of SGD, Adam and RMSprop).
            weight_decay: decoupled weight decay, ``w -= lr * weight_decay * w``
                every update (AdamW's ``weight_decay``; with the other
                optimizers the decoupled "SGDW" variant).
            clip_value: clamp every gradient entry to ``[-clip_value,
                clip_value]`` before norm clipping (None: off).
            schedule: the learning rate per update: None (constant),
                ``"step"`` (times ``gamma`` every ``step_size`` updates),
                ``"exponential"`` (times ``gamma`` every update),
                ``"cosine"`` (from ``lr`` to ``min_lr`` over ``total_steps``
                updates, default the whole fit) or ``"plateau"`` (times
                ``gamma``, not below ``min_lr``, when ``monitor`` did not
                improve for more than ``patience`` epochs; torch's
                ReduceLROnPlateau). ``warmup_steps`` first raises the rate
                linearly: update ``n <= warmup_steps`` uses ``lr * n /
                warmup_steps``.
            monitor: what ``"plateau"`` watches, reported after every
                epoch: ``"val_loss"`` (default; needs ``validation_data``),
                ``"loss"``, or any other epoch log such as
                ``"val_accuracy"`` (names with accuracy, precision, recall
                or f1 are maximised, others minimised).
            freeze: names of tensors that get no updates (e.g.
                ``("embedding.weight",)`` for pretrained vectors).
            checkpoint: path of a training checkpoint (one safetensors file
                with the weights, optimizer state, schedule, dropout RNG and
                the position in the data), written atomically every
                ``checkpoint_every`` batches, or after every epoch when that
                is None, and when training is interrupted with Ctrl-C.
            resume: continue from ``checkpoint`` when the file exists: the
                model takes the saved weights and training continues with
                the saved optimizer and schedule at the saved epoch and
                batch, so a run that was stopped and resumed with the same
                arguments ends with the same weights, bit for bit, as one
                that never stopped (with shuffling this needs a ``seed``).
                The saved optimizer settings are used. Without the file,
                training starts from scratch.
            on_nonfinite: what a batch whose loss or gradient is not finite
                does (the model is never updated by it): ``"raise"``
                (default) raises :class:`seqrnn.NonFiniteError` naming the
                epoch and batch; ``"skip"`` skips the batch; ``"stop"``
                stops training. ``history.nonfinite_batches`` counts them and
                ``history.stopped_nonfinite`` tells whether training stopped.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val,
                lengths_val)``, evaluated after every epoch (``val_loss``;
                cross-entropy models also ``val_accuracy`` and the macro
                ``val_precision``, ``val_recall``, ``val_f1``, see
                :class:`seqrnn.metrics.Metrics`).
            shuffle: reshuffle the sequences every epoch (with ``seed``).
                Or a callable ``shuffle(epoch) -> order``: the epoch's order
                of the sequence indices (a permutation of ``range(len(x))``),
                cut into consecutive batches of ``batch_size``, e.g.
                :func:`seqrnn.text.bucket_order` for batches of similar
                lengths.
            callbacks: :class:`~seqrnn.Callback` objects (e.g.
                :class:`~seqrnn.EarlyStopping`); a callback may set
                ``model.stop_training = True``.
            verbose: 0 silent; 1 a progress bar on a terminal (tqdm's when
                installed), one line per epoch otherwise; 2 one line per epoch.
            seed: seed of the shuffling and of the dropout masks (None: a
                fresh one); the same seed gives the same weights.

        The optimizer state (moments, the step count, the schedule) carries
        over to the next ``fit`` call when it uses the same optimizer and
        settings (a new ``lr`` becomes the base rate), so calling ``fit``
        twice is like training longer; any other setting starts a fresh
        optimizer, and :meth:`reset_optimizer` forces one.

        Ctrl-C (KeyboardInterrupt) stops training after the running batch: the
        model keeps the weights of the last completed step and ``fit`` returns
        the history of the completed epochs, with ``history.interrupted`` set
        (and says so unless ``verbose=0``).

        The History's ``history`` holds, per epoch, ``loss`` (mean over the
        epoch's valid positions, before each step's update), ``accuracy`` for
        cross-entropy models, ``lr`` with a ``schedule`` or warm-up (the rate
        of the epoch's last update), and with validation data ``val_loss`` (plus ``val_accuracy``,
        ``val_precision``, ``val_recall``, ``val_f1`` for cross-entropy
        models). :class:`~seqrnn.EarlyStopping` can watch any of them. An
        epoch resumed from a checkpoint reports its remaining batches only.
        """
        model = self._model()
        inputs = self._inputs(x, lengths)
        targets = attach_weights(self._targets(y, inputs), sample_weight, inputs)
        n_epochs = check_int(epochs, "epochs", minimum=0)
        step = check_int(batch_size, "batch_size")
        assert n_epochs is not None and step is not None
        learning_rate = check_float(lr, "lr", minimum=0.0, inclusive=False)
        if verbose not in (0, 1, 2) or isinstance(verbose, bool):
            fail(InvalidArgumentError, f"verbose: expected 0, 1 or 2, got {verbose!r}")
        validation = self._validation(validation_data)
        callbacks = list(callbacks)
        for cb in callbacks:
            if not any(hasattr(cb, hook) for hook in _HOOKS):
                fail(InvalidArgumentError, f"callbacks: {cb!r} is not a Callback")
        seed_value = optional_int(seed, "seed", minimum=0)
        N = inputs.batch
        steps = math.ceil(N / step)
        settings = _train_settings(
            optimizer=optimizer,
            lr=learning_rate,
            momentum=momentum,
            beta1=beta1,
            beta2=beta2,
            epsilon=epsilon,
            clip_norm=clip_norm,
            nesterov=nesterov,
            rmsprop_alpha=rmsprop_alpha,
            l2=l2,
            weight_decay=weight_decay,
            clip_value=clip_value,
            schedule=schedule,
            step_size=step_size,
            gamma=gamma,
            warmup_steps=warmup_steps,
            total_steps=total_steps,
            default_total=n_epochs * steps,
            min_lr=min_lr,
            patience=patience,
            monitor=monitor,
        )
        plateau = settings["schedule"] == _SCHEDULES["plateau"]
        if plateau and validation is None and str(monitor).startswith("val_"):
            fail(
                InvalidArgumentError,
                f"schedule='plateau' monitors {monitor!r}, which needs validation_data; "
                "give validation_data or monitor='loss'",
            )
        frozen = _frozen_names(freeze, [name for name, _ in model.tensors()])
        checkpoint_path = None if checkpoint is None else check_path(checkpoint)
        every = optional_int(checkpoint_every, "checkpoint_every")
        if checkpoint_path is None and (every is not None or resume):
            fail(
                InvalidArgumentError,
                "checkpoint_every and resume need a checkpoint path (checkpoint=...)",
            )
        if on_nonfinite not in ("raise", "skip", "stop"):
            fail(
                InvalidArgumentError,
                f"on_nonfinite: expected 'raise', 'skip' or 'stop', got {on_nonfinite!r}",
            )

        start = 0
        if resume and checkpoint_path is not None and os.path.exists(checkpoint_path):
            trainer, start = self._resume_from(checkpoint_path, settings, learning_rate)
            model = self._model()
        else:
            # The dropout masks' seed: fit's seed, so the same seed gives the
            # same weights.
            mask_seed = (
                seed_value
                if seed_value is not None
                else int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
            )
            trainer = self._trainer_for(model, settings, learning_rate, mask_seed)
        for name, _ in model.tensors():
            trainer.set_frozen(name, name in frozen)

        metrics = ["loss"] + (["accuracy"] if self.loss == "cross_entropy" else [])
        if validation is not None:
            metrics += ["val_" + m for m in metrics]
            if self.loss == "cross_entropy":
                metrics += ["val_precision", "val_recall", "val_f1"]
        params = {
            "epochs": n_epochs,
            "steps": steps,
            "batch_size": step,
            "samples": N,
            "verbose": verbose,
            "metrics": metrics,
            "accuracy": self.loss == "cross_entropy",
            "do_validation": validation is not None,
        }
        history = History()
        history.nonfinite_batches = 0  # type: ignore[attr-defined]
        history.stopped_nonfinite = False  # type: ignore[attr-defined]
        progress = ProgressBar(verbose)
        cbs = CallbackList([history, *callbacks, progress], self, params)
        self.history = history
        self.stop_training = False
        rng = np.random.default_rng(seed_value)
        first_epoch, first_batch = divmod(start, steps) if steps else (0, 0)
        if shuffle and not callable(shuffle):
            for _ in range(min(first_epoch, n_epochs)):
                rng.permutation(N)  # the orders of the epochs already done
        run = _Run(
            trainer=trainer,
            steps=steps,
            checkpoint=checkpoint_path,
            every=every,
            on_nonfinite=on_nonfinite,
            position=start,
        )
        run.record_lr = settings["schedule"] != 0 or settings["warmup_steps"] > 0
        cbs.on_train_begin({})
        try:
            for epoch in range(first_epoch, n_epochs):
                run.epoch, run.batches = epoch, 0
                cbs.on_epoch_begin(epoch, {})
                if callable(shuffle):  # custom batches (seqrnn.text.bucket_order)
                    order = _custom_order(shuffle, epoch, N)
                else:
                    order = rng.permutation(N) if shuffle else np.arange(N)
                logs = self._train_epoch(
                    run,
                    inputs,
                    targets,
                    order,
                    step,
                    cbs,
                    first_batch if epoch == first_epoch else 0,
                )
                if validation is not None and logs is not None:
                    scores = self._validation_scores(*validation)
                    logs.update({"val_" + k: v for k, v in scores.items()})
                if logs is None:  # stopped by a non-finite step
                    history.stopped_nonfinite = True  # type: ignore[attr-defined]
                    break
                if plateau:
                    if monitor not in logs:
                        fail(
                            InvalidArgumentError,
                            f"schedule='plateau' monitors {monitor!r}, but the epoch logs have "
                            f"{sorted(logs)}",
                        )
                    trainer.report_metric(float(logs[monitor]))
                if run.checkpoint is not None and (run.every is None or run.save_due):
                    self._save_checkpoint(run, run.position)
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    history.stopped_early = True
                    break
        except KeyboardInterrupt:
            history.interrupted = True
            run.settle()
            if run.checkpoint is not None:
                self._save_checkpoint(run, run.position)
            progress.interrupted(
                f"Training interrupted (KeyboardInterrupt) in epoch "
                f"{run.epoch + 1}/{n_epochs} after {run.batches} of {steps} "
                "batches; the model keeps the weights of its last completed step. "
                f"Returning the history of the {len(history.epoch)} completed epochs."
            )
        history.nonfinite_batches = run.nonfinite  # type: ignore[attr-defined]
        if run.nonfinite and verbose:
            action = "stopped training" if run.stopped else "were skipped"
            progress.interrupted(
                f"{run.nonfinite} batch(es) had a non-finite loss or gradient and {action} "
                "(on_nonfinite); the model was never updated by them."
            )
        cbs.on_train_end({})
        return history

    def fit_stream(
        self,
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
        """Trains a next-token model on one long stream of token ids (or a
        list of documents) with truncated backpropagation through time:
        ``batch_size`` parallel streams walked in chunks of ``seq_len`` steps,
        the hidden state carried across chunks without backpropagating across
        them, and reset at each document's start. See :mod:`seqrnn.streams`.

        >>> import numpy as np, seqrnn
        >>> lm = seqrnn.Model("lstm", vocab_size=3, hidden_size=8, output_size=3)
        >>> h = lm.fit_stream(np.arange(60) % 3, seq_len=5, batch_size=2, epochs=2, verbose=0)
        >>> sorted(h.history)
        ['loss', 'perplexity']
        """
        return fit_stream(
            self,
            data,
            seq_len=seq_len,
            batch_size=batch_size,
            epochs=epochs,
            optimizer=optimizer,
            lr=lr,
            clip_norm=clip_norm,
            seed=seed,
            verbose=verbose,
        )

    def _validation(self, validation_data: Any) -> tuple[Inputs, Targets] | None:
        """Prepares fit's validation_data (so errors come before training)."""
        if validation_data is None:
            return None
        if not isinstance(validation_data, (tuple, list)) or len(
            validation_data
        ) not in (2, 3):
            fail(
                InvalidArgumentError,
                "validation_data: expected (x_val, y_val) or (x_val, y_val, lengths_val)",
            )
        lengths = validation_data[2] if len(validation_data) == 3 else None
        inputs = self._inputs(
            validation_data[0],
            lengths,
            name="validation_data[0] (x_val)",
            lengths_name="validation_data[2] (lengths_val)",
        )
        targets = self._targets(
            validation_data[1], inputs, name="validation_data[1] (y_val)"
        )
        return inputs, targets

    def _trainer_for(
        self, model: Any, settings: dict[str, Any], learning_rate: float, seed: int
    ) -> Any:
        """The kept trainer if its settings are ``settings``, else a fresh one
        (whose dropout masks come from ``seed``)."""
        key = tuple(sorted(settings.items()))
        if self._trainer is None or self._trainer_key != key:
            self.reset_optimizer()
            with self._lock.write():
                self._trainer = _seqrnn.Trainer(
                    model, learning_rate=learning_rate, seed=seed, **settings
                )
            self._trainer_key = key
        elif getattr(self, "_trainer_lr", None) != learning_rate:
            # A new base rate (a plateau schedule restarts from it); the same
            # one keeps the schedule's state.
            self._trainer.set_learning_rate(learning_rate)
        self._trainer_lr = learning_rate
        return self._trainer

    def _resume_from(
        self, path: str, settings: dict[str, Any], learning_rate: float
    ) -> tuple[Any, int]:
        """Loads the checkpoint at path: the model takes its weights, and its
        trainer becomes this model's; returns the trainer and the position."""
        handle, trainer, position = _seqrnn.Trainer.load_checkpoint(path)
        mine = self._model().params()
        theirs = handle.params()
        if mine != theirs:
            handle.close()
            trainer.close()
            differ = sorted(k for k in mine if mine.get(k) != theirs.get(k))
            fail(
                InvalidArgumentError,
                f"resume: the checkpoint {path!r} holds a model with another "
                f"configuration (differs in {differ})",
            )
        self.reset_optimizer()
        with self._lock.write():
            old, self._m = self._m, handle
            if old is not None:
                old.close()
        self._trainer = trainer
        self._trainer_key = tuple(sorted(settings.items()))
        self._trainer_lr = learning_rate
        return trainer, int(position)

    def _save_checkpoint(self, run: _Run, position: int) -> None:
        assert run.checkpoint is not None
        with self._lock.read():
            run.trainer.save_checkpoint(run.checkpoint, position)
        run.save_due = False

    def _train_epoch(
        self,
        run: _Run,
        inputs: Inputs,
        targets: Targets,
        order: np.ndarray,
        step: int,
        cbs: CallbackList,
        first_batch: int = 0,
    ) -> dict[str, float] | None:
        """One pass over the batches of ``order`` from ``first_batch``;
        returns the epoch's logs, or None when a non-finite step stopped
        training."""
        trainer = run.trainer
        classes = self.loss == "cross_entropy"
        loss_sum = acc_sum = weight_sum = 0.0
        count_sum = 0
        rate = float(trainer.learning_rate())
        starts = range(0, len(order), step)
        for batch_index in range(first_batch, len(starts)):
            start = starts[batch_index]
            part = order[start : start + step]
            t = inputs.time_of(part)
            kwargs = inputs.kwargs(part, t)
            kwargs.update(targets.kwargs(part, t))
            weight = None
            if "loss_weights" in kwargs:
                weight = float(kwargs["loss_weights"].sum(dtype=np.float64))
                if weight == 0:  # nothing to learn from this batch
                    run.advance(batch_index)
                    continue
            b = kwargs["batch_size"]
            cbs.on_batch_begin(batch_index, {"size": b})
            logs: dict[str, Any] = {"size": b}
            run.pending = batch_index
            try:
                with self._lock.write():
                    run.updates_before = int(trainer.step_count())
                    rate = float(trainer.learning_rate())
                    logs["loss"] = float(trainer.step(**kwargs))
                    # The batch's accuracy before the update, as Keras reports
                    # it, measured by the step's own forward pass.
                    _, accuracy, count = trainer.last_evaluation()
            except NonFiniteError as exc:
                run.nonfinite += 1
                if run.on_nonfinite == "raise":
                    fail(
                        NonFiniteError,
                        f"fit: epoch {run.epoch + 1}, batch {batch_index + 1}: {exc} "
                        "(on_nonfinite='skip' skips such batches, 'stop' stops training)",
                    )
                run.advance(batch_index)
                if run.on_nonfinite == "stop":
                    run.stopped = True
                    return None
                continue
            if classes:
                logs["accuracy"] = float(accuracy)
            logs["count"] = int(count)
            loss_sum += logs["loss"] * (count if weight is None else weight)
            weight_sum += count if weight is None else weight
            acc_sum += logs.get("accuracy", 0.0) * count
            count_sum += int(count)
            run.advance(batch_index)
            if run.save_due and batch_index + 1 < len(starts):
                # A due save at the epoch's last batch waits for the epoch's
                # end, so that it includes the epoch's metric report.
                self._save_checkpoint(run, run.position)
            cbs.on_batch_end(batch_index, logs)
            if self.stop_training:
                break
        epoch_logs = {"loss": loss_sum / weight_sum if weight_sum else math.nan}
        if classes:
            epoch_logs["accuracy"] = acc_sum / count_sum if count_sum else math.nan
        if run.record_lr:
            epoch_logs["lr"] = rate
        return epoch_logs

    def _evaluate_prepared(
        self, inputs: Inputs, targets: Targets, step: int
    ) -> dict[str, float]:
        model = self._model()
        loss_sum = acc_sum = weight_sum = 0.0
        count = 0
        for start in range(0, inputs.batch, step):
            part = slice(start, min(start + step, inputs.batch))
            t = inputs.time_of(part)
            target_kwargs = targets.kwargs(part, t)
            # With loss weights, a batch's mean loss counts by its weight sum
            # (and a batch of zero weights has no loss at all).
            weight = None
            if "loss_weights" in target_kwargs:
                weight = float(target_kwargs["loss_weights"].sum(dtype=np.float64))
                if weight == 0:
                    continue
            with self._lock.read():
                loss, accuracy, n = model.evaluate(
                    **inputs.kwargs(part, t), **target_kwargs
                )
            loss_sum += float(loss) * (n if weight is None else weight)
            weight_sum += n if weight is None else weight
            acc_sum += float(accuracy) * n
            count += int(n)
        out = {"loss": loss_sum / weight_sum}
        if self.loss == "cross_entropy":
            out["accuracy"] = acc_sum / count
        return out

    def _validation_scores(self, inputs: Inputs, targets: Targets) -> dict[str, float]:
        """fit's validation metrics in one pass with the streaming
        accumulator: loss, and for cross-entropy models accuracy and the
        macro precision, recall and F1."""
        model = self._model()
        classes = self.loss == "cross_entropy"
        metrics = _seqrnn.Metrics(self.output_size if classes else 0)
        try:
            for start in range(0, inputs.batch, _PREDICT_BATCH):
                part = slice(start, min(start + _PREDICT_BATCH, inputs.batch))
                t = inputs.time_of(part)
                with self._lock.read():
                    metrics.update(
                        model, **inputs.kwargs(part, t), **targets.kwargs(part, t)
                    )
            s = metrics.summary()
        finally:
            metrics.close()
        out = {"loss": s["loss"]}
        if classes:
            out["accuracy"] = s["accuracy"]
            out["precision"] = s["macro_precision"]
            out["recall"] = s["macro_recall"]
            out["f1"] = s["macro_f1"]
        return out

    def reset_optimizer(self) -> None:
        """Forgets the optimizer state kept between :meth:`fit` calls."""
        if self._trainer is not None:
            self._trainer.close()
        self._trainer = None
        self._trainer_key = None

    def compute_gradients(
        self, x: Any, y: Any, lengths: Any = None
    ) -> tuple[float, OrderedDict[str, np.ndarray]]:
        """The mean loss on one batch and its gradient for every tensor
        (named as in :meth:`state_dict`), without changing the model; for
        gradient checks and custom optimizers.

        >>> import seqrnn
        >>> m = seqrnn.Model("gru", vocab_size=3, hidden_size=2, output_size=3)
        >>> loss, grads = m.compute_gradients([[0, 1, 2]], [[1, 2, 0]])
        >>> grads["rnn.weight_hh_l0"].shape
        (6, 2)
        """
        model = self._model()
        inputs = self._inputs(x, lengths)
        targets = self._targets(y, inputs)
        kwargs = inputs.kwargs(slice(None), inputs.time_of(slice(None)))
        kwargs.update(targets.kwargs(slice(None), kwargs["seq_len"]))
        with self._lock.write():
            trainer = _seqrnn.Trainer(
                model,
                optimizer=0,
                learning_rate=1e-3,
                momentum=0.0,
                beta1=0.9,
                beta2=0.999,
                epsilon=1e-8,
                clip_norm=0.0,
            )
        try:
            with self._lock.read():
                loss = float(trainer.compute_gradients(**kwargs))
            grads: OrderedDict[str, np.ndarray] = OrderedDict()
            for name, shape in model.tensors():
                grads[name] = np.empty(shape, dtype=np.float32)
                trainer.get_gradient(name, grads[name])
        finally:
            trainer.close()
        return loss, grads

    # -- weights and files -----------------------------------------------------

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The weights as float32 numpy arrays (copies) under PyTorch's names and
        shapes, in PyTorch's order: ``embedding.weight`` (token models),
        ``rnn.weight_ih_l{k}``, ``rnn.weight_hh_l{k}``, ``rnn.bias_ih_l{k}``,
        ``rnn.bias_hh_l{k}`` (``..._reverse`` for the backward direction),
        ``head.weight``, ``head.bias``. The ``rnn.*`` entries are exactly an
        ``nn.LSTM``/``nn.GRU``/``nn.RNN`` state_dict with the ``rnn.`` prefix.

        >>> import seqrnn
        >>> m = seqrnn.Model("lstm", input_size=3, hidden_size=5, output_size=2)
        >>> {k: v.shape for k, v in m.state_dict().items()}     # doctest: +NORMALIZE_WHITESPACE
        {'rnn.weight_ih_l0': (20, 3), 'rnn.weight_hh_l0': (20, 5), 'rnn.bias_ih_l0': (20,),
         'rnn.bias_hh_l0': (20,), 'head.weight': (2, 5), 'head.bias': (2,)}
        """
        model = self._model()
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        with self._lock.read():
            for name, shape in model.tensors():
                arr = np.empty(tuple(shape), dtype=np.float32)
                model.get_tensor(name, arr)
                out[name] = arr
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Replaces weights with those of ``state_dict`` (name -> array; numpy
        arrays or anything ``np.asarray`` takes, e.g. ``tensor.numpy()``).

        With ``strict`` (the default) the keys must be exactly the model's;
        otherwise unknown keys are ignored and missing ones keep their values.
        Shapes must match exactly and values be finite. Nothing is changed
        unless every check passes. Returns the missing and unexpected keys,
        like PyTorch.

        >>> import seqrnn
        >>> a = seqrnn.Model("gru", input_size=2, hidden_size=3, output_size=1, seed=1)
        >>> b = seqrnn.Model("gru", input_size=2, hidden_size=3, output_size=1, seed=2)
        >>> b.load_state_dict(a.state_dict())
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        >>> b.load_state_dict({"head.bias": [0.5]}, strict=False).unexpected_keys
        []
        """
        model = self._model()
        if not isinstance(state_dict, Mapping):
            fail(
                InvalidArgumentError,
                f"state_dict: expected a mapping of names to arrays, got {type(state_dict).__name__}",
            )
        shapes = OrderedDict((name, tuple(shape)) for name, shape in model.tensors())
        unexpected = [k for k in state_dict if k not in shapes]
        missing = [k for k in shapes if k not in state_dict]
        if strict and (unexpected or missing):
            parts = []
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            if missing:
                parts.append(f"missing keys {missing}")
            message = (
                "load_state_dict: "
                + " and ".join(parts)
                + f"; the model's tensors are {list(shapes)}"
            )
            bare = [
                k for k in unexpected if isinstance(k, str) and "rnn." + k in shapes
            ]
            if bare:
                message += " (to load an nn.LSTM/nn.GRU/nn.RNN's own state_dict, prefix its keys with 'rnn.')"
            fail(UnknownNameError, message)
        values: list[tuple[str, np.ndarray]] = []
        for name, expected in shapes.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            try:
                arr = np.asarray(value)
            except (
                TypeError,
                ValueError,
                RuntimeError,
            ) as exc:  # e.g. a tensor with grad
                fail(
                    InvalidArgumentError,
                    f"state_dict[{name!r}]: cannot be read as an array ({exc})",
                )
            if arr.dtype.kind not in "fiu":
                fail(
                    InvalidArgumentError,
                    f"state_dict[{name!r}]: expected real numbers, got dtype {arr.dtype}",
                )
            if arr.shape != expected:
                fail(
                    ShapeError,
                    f"state_dict[{name!r}]: expected shape {shape_text(expected)}, got shape {arr.shape}",
                )
            arr = np.ascontiguousarray(arr, dtype=np.float32)
            if not np.isfinite(arr).all():
                fail(NonFiniteError, f"state_dict[{name!r}]: values must be finite")
            values.append((name, arr))
        with self._lock.write():
            for name, arr in values:
                model.set_tensor(name, arr)
        return IncompatibleKeys(missing_keys=missing, unexpected_keys=unexpected)

    def set_embeddings(self, matrix: Any) -> None:
        """Replaces the token embedding with ``matrix``, a ``[vocab_size,
        input_size]`` array (e.g. pretrained vectors; same as
        ``load_state_dict({"embedding.weight": matrix}, strict=False)``).
        Row ``i`` is the vector of token id ``i``.

        To keep the embedding fixed while training, freeze it:
        ``model.fit(..., freeze=("embedding.weight",))``.

        >>> import numpy as np, seqrnn
        >>> m = seqrnn.Model("gru", vocab_size=4, input_size=3, hidden_size=5, output_size=2)
        >>> m.set_embeddings(np.arange(12).reshape(4, 3))
        >>> m.state_dict()["embedding.weight"][2]
        array([6., 7., 8.], dtype=float32)
        """
        if self.vocab_size is None:
            fail(
                UnsupportedError,
                "set_embeddings: the model takes float features, not tokens; it has no embedding",
            )
        self.load_state_dict({"embedding.weight": matrix}, strict=False)

    def load_word_vectors(self, path: PathLike, vocabulary: Any) -> int:
        """Fills embedding rows from a pretrained word-vector text file and
        returns how many rows were filled.

        Args:
            path: a GloVe text file (``word v1 ... vd`` per line) or word2vec
                text (the same after a ``count dim`` first line); ``d`` must
                be the model's ``input_size`` (the embedding width).
            vocabulary: the word of each token id: a sequence of
                ``vocab_size`` strings (row ``i`` gets ``vocabulary[i]``'s
                vector), or a mapping word -> id (ids without a word are left
                alone).

        Rows whose word is not in the file keep their values; words match
        exactly (case-sensitive); a word repeated in the file keeps its first
        vector. Raises :class:`seqrnn.ShapeError` (vocabulary size, or a
        vector's width, naming the word and line),
        :class:`seqrnn.FormatError` (a value that is not a number, naming the
        line), :class:`seqrnn.NonFiniteError`, :class:`seqrnn.FileError`;
        on any error the model is unchanged. Freeze the loaded rows while
        training with ``model.fit(..., freeze=("embedding.weight",))``.

        >>> import os, tempfile, seqrnn
        >>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
        >>> with open(path, "w") as f:
        ...     _ = f.write("the 0.1 0.2 0.3\\ncat 1 2 3\\n")
        >>> m = seqrnn.Model("lstm", vocab_size=3, input_size=3, hidden_size=4, output_size=2)
        >>> m.load_word_vectors(path, ["<pad>", "the", "cat"])
        2
        >>> m.state_dict()["embedding.weight"][2]
        array([1., 2., 3.], dtype=float32)
        """
        model = self._model()
        if self.vocab_size is None:
            fail(
                UnsupportedError,
                "load_word_vectors: the model takes float features, not tokens; it has no embedding",
            )
        words = _vocabulary_list(vocabulary, self.vocab_size)
        with self._lock.write():
            return int(_seqrnn.load_word_vectors(model, check_path(path), words))

    def save(self, path: PathLike) -> None:
        """Saves configuration and weights to ``path`` as safetensors (readable by
        the ``safetensors`` package; the configuration is in the metadata).
        The file is replaced atomically. Load it with :func:`seqrnn.load`.

        >>> import os, tempfile, seqrnn
        >>> m = seqrnn.Model("rnn", input_size=2, hidden_size=3, output_size=1)
        >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
        >>> m.save(path); seqrnn.load(path)
        Model(cell='rnn', input_size=2, hidden_size=3, num_layers=1, bidirectional=False, output_size=1, output='sequence', loss='cross_entropy', seed=0)
        """
        model = self._model()
        with self._lock.read():
            model.save(check_path(path))

    def close(self) -> None:
        """Frees the model (and its optimizer state). Streams made from it keep
        working; any other use of the model afterwards raises
        :class:`seqrnn.InvalidArgumentError`."""
        if self._m is None:
            return
        with self._lock.write():
            self.reset_optimizer()
            self._m.close()
            self._m = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_batch_begin",
    "on_batch_end",
)


class _Run:
    """The state of one fit call's batch loop: the trainer, where it is in the
    data, checkpointing and non-finite handling."""

    def __init__(
        self,
        *,
        trainer: Any,
        steps: int,
        checkpoint: str | None,
        every: int | None,
        on_nonfinite: str,
        position: int,
    ) -> None:
        self.trainer = trainer
        self.steps = steps
        self.checkpoint = checkpoint
        self.every = every
        self.on_nonfinite = on_nonfinite
        self.position = position  # global index of the next batch
        self.epoch = 0
        self.batches = 0  # batches done in this epoch (for messages)
        self.nonfinite = 0
        self.stopped = False
        self.save_due = False
        # History gets the learning rate when it changes (schedule, warm-up).
        self.record_lr = False
        # The batch being stepped, and the trainer's update count before it:
        # a Ctrl-C right after a step can tell whether the step was applied.
        self.pending: int | None = None
        self.updates_before = 0

    def settle(self) -> None:
        """After an interruption: counts the pending batch as done if its
        update was applied."""
        if self.pending is not None and self.trainer.step_count() > self.updates_before:
            self.advance(self.pending)
        self.pending = None

    def advance(self, batch_index: int) -> None:
        """Records that the batch batch_index of the current epoch is done."""
        self.pending = None
        self.batches = batch_index + 1
        self.position = self.epoch * self.steps + batch_index + 1
        if self.every is not None and self.position % self.every == 0:
            self.save_due = True


_SCHEDULES = {"constant": 0, "step": 1, "exponential": 2, "cosine": 3, "plateau": 4}
_MAXIMIZED = ("accuracy", "acc", "precision", "recall", "f1")


def _train_settings(
    *,
    optimizer: Any,
    lr: float,
    momentum: Any,
    beta1: Any,
    beta2: Any,
    epsilon: Any,
    clip_norm: Any,
    nesterov: Any,
    rmsprop_alpha: Any,
    l2: Any,
    weight_decay: Any,
    clip_value: Any,
    schedule: Any,
    step_size: Any,
    gamma: Any,
    warmup_steps: Any,
    total_steps: Any,
    default_total: int,
    min_lr: Any,
    patience: Any,
    monitor: Any,
) -> dict[str, Any]:
    """fit's checked optimizer and schedule settings, as Trainer() keyword
    arguments (all but the learning rate and the seed)."""
    optimizer_id = _choice(
        optimizer, _OPTIMIZERS, "optimizer", ("adam", "adamw", "sgd", "rmsprop")
    )
    schedule_id = (
        0
        if schedule is None
        else _choice(
            schedule,
            _SCHEDULES,
            "schedule",
            ("step", "exponential", "cosine", "plateau"),
        )
    )
    mu = check_float(momentum, "momentum", maximum=1.0)
    if not isinstance(nesterov, (bool, np.bool_)):
        fail(
            InvalidArgumentError, f"nesterov: expected True or False, got {nesterov!r}"
        )
    if nesterov and mu == 0:
        fail(InvalidArgumentError, "nesterov: needs momentum > 0")
    low = check_float(min_lr, "min_lr")
    if low > lr:
        fail(InvalidArgumentError, f"min_lr: expected a number <= lr ({lr}), got {low}")
    if not isinstance(monitor, str):
        fail(InvalidArgumentError, f"monitor: expected a str, got {monitor!r}")
    warmup = check_int(warmup_steps, "warmup_steps", minimum=0)
    total = (
        max(default_total - warmup, 1)
        if total_steps is None
        else check_int(total_steps, "total_steps")
    )
    g = check_float(gamma, "gamma", minimum=0.0, inclusive=False)
    if g > 1:
        fail(InvalidArgumentError, f"gamma: expected a number in (0, 1], got {g}")
    return {
        "optimizer": optimizer_id,
        "momentum": mu,
        "beta1": check_float(beta1, "beta1", maximum=1.0),
        "beta2": check_float(beta2, "beta2", maximum=1.0),
        "epsilon": check_float(epsilon, "epsilon", minimum=0.0, inclusive=False),
        "clip_norm": 0.0
        if clip_norm is None
        else check_float(clip_norm, "clip_norm", minimum=0.0, inclusive=False),
        "nesterov": bool(nesterov),
        "rmsprop_alpha": check_float(rmsprop_alpha, "rmsprop_alpha", maximum=1.0),
        "l2_penalty": check_float(l2, "l2"),
        "weight_decay": check_float(weight_decay, "weight_decay"),
        "clip_value": 0.0
        if clip_value is None
        else check_float(clip_value, "clip_value", minimum=0.0, inclusive=False),
        "schedule": schedule_id,
        "step_size": check_int(step_size, "step_size"),
        "gamma": g,
        "warmup_steps": warmup,
        "total_steps": total,
        "min_learning_rate": low,
        "patience": check_int(patience, "patience", minimum=0),
        "plateau_maximize": any(
            monitor.lower().removeprefix("val_").startswith(m) for m in _MAXIMIZED
        ),
    }


def _frozen_names(freeze: Any, names: list[str]) -> set[str]:
    """fit's freeze argument as a set of tensor names, all known."""
    if isinstance(freeze, str):
        freeze = (freeze,)
    try:
        wanted = list(freeze)
    except TypeError:
        fail(
            InvalidArgumentError,
            f"freeze: expected tensor names, got {freeze!r}",
        )
    unknown = [n for n in wanted if n not in names]
    if unknown:
        fail(
            UnknownNameError,
            f"freeze: no tensor named {unknown[0]!r}; the model's tensors are {names}",
        )
    return set(wanted)


def _custom_order(shuffle: Any, epoch: int, n: int) -> np.ndarray:
    """fit's callable shuffle: the epoch's order, checked to be a permutation
    of range(n)."""
    order = np.asarray(shuffle(epoch))
    if (
        order.shape != (n,)
        or order.dtype.kind not in "iu"
        or not np.array_equal(np.sort(order), np.arange(n))
    ):
        fail(
            InvalidArgumentError,
            f"shuffle: the callable must return a permutation of range({n}) "
            f"(one index per sequence), got {order.dtype} shaped {order.shape}",
        )
    return order.astype(np.int64, copy=False)


def _vocabulary_list(vocabulary: Any, size: int) -> list[str]:
    """load_word_vectors' vocabulary as one str per token id ("" for ids
    without a word)."""
    if isinstance(vocabulary, Mapping):
        words = [""] * size
        for word, index in vocabulary.items():
            if not isinstance(word, str):
                fail(
                    InvalidArgumentError,
                    f"vocabulary: keys must be str, got {type(word).__name__}",
                )
            i = check_int(index, f"vocabulary[{word!r}]", minimum=0)
            if i >= size:
                fail(
                    OutOfRangeError,
                    f"vocabulary[{word!r}] = {i} is out of range: ids must be in [0, {size}) (vocab_size)",
                )
            words[i] = word
        return words
    if isinstance(vocabulary, (str, bytes)):
        fail(
            InvalidArgumentError,
            "vocabulary: expected a list of words (one per token id) or a dict word -> id, got a string",
        )
    words = list(vocabulary)
    for i, word in enumerate(words):
        if not isinstance(word, str):
            fail(
                InvalidArgumentError,
                f"vocabulary[{i}]: expected a str, got {type(word).__name__}",
            )
    if len(words) != size:
        fail(
            ShapeError,
            f"vocabulary: {len(words)} words, but the model's vocab_size is {size}",
        )
    return words


def _lengths_of(x: Any, lengths: Any, time: int) -> np.ndarray | None:
    if lengths is not None:
        return np.asarray(lengths, dtype=np.int64)
    if isinstance(x, (list, tuple)) and len(x) and not np.isscalar(x[0]):
        return np.array([len(s) for s in x], dtype=np.int64)
    return None


def _rebuild(config: dict[str, Any], state: Mapping[str, Any]) -> Model:
    model = Model(**config)
    model.load_state_dict(state)
    return model


def load(path: PathLike) -> Model:
    """Loads a model saved by :meth:`Model.save`.

    Raises :class:`seqrnn.FileError` (an ``OSError``) if the file cannot be
    read and :class:`seqrnn.FormatError` (a ``FileError``) if it is not a
    seqrnn model file or was written by a newer format version.
    """
    return Model.load(path)
