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
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Union

import numpy as np

from . import _seqrnn
from ._inputs import (
    Inputs,
    Targets,
    check_float,
    check_int,
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
    ShapeError,
    UnknownNameError,
    UnsupportedError,
    fail,
)
from .stream import Stream

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
_OPTIMIZERS = {"sgd": 0, "adam": 1}

_PREDICT_BATCH = 256


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
    ) -> None:
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
        )
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
        return cls._wrap(_seqrnn.Model.load(_path(path)))

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

    def evaluate(
        self, x: Any, y: Any, lengths: Any = None, *, batch_size: int = _PREDICT_BATCH
    ) -> dict[str, float]:
        """Loss (and accuracy for cross-entropy models) on ``x`` and targets ``y``,
        averaged over all valid positions; the model is not changed.

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
        targets = self._targets(y, inputs)
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
        self, prime: Any, n: int, temperature: float = 1.0, seed: int | None = None
    ) -> list[int]:
        """Samples ``n`` token ids that follow ``prime`` (a token model whose
        ``output_size`` equals its ``vocab_size``, e.g. a character model).

        The prime (a non-empty list or 1-D array of ids) is run through the
        model, then each new id is drawn from ``softmax(logits /
        temperature)`` and fed back. ``temperature=0`` is greedy (always the
        most likely id). ``seed`` makes the sampling repeatable. Returns the
        ``n`` new ids (without the prime).

        >>> import seqrnn
        >>> m = seqrnn.Model("gru", vocab_size=8, hidden_size=16, output_size=8, seed=3)
        >>> a = m.generate([1, 2, 3], 5, seed=42)
        >>> len(a), a == m.generate([1, 2, 3], 5, seed=42)
        (5, True)
        """
        model = self._model()
        vocab = self.vocab_size
        if vocab is None:
            fail(
                InvalidArgumentError,
                "generate: needs a token model (created with vocab_size)",
            )
        if self.output_size != vocab:
            fail(
                InvalidArgumentError,
                f"generate: the model's output_size ({self.output_size}) must equal its vocab_size ({vocab}) "
                "so that each output can be fed back as the next token",
            )
        if self.loss != "cross_entropy":
            fail(
                InvalidArgumentError,
                "generate: needs a cross-entropy model (its outputs are logits over tokens)",
            )
        if self.bidirectional:
            fail(
                UnsupportedError,
                "generate: a bidirectional model cannot generate step by step",
            )
        count = check_int(n, "n", minimum=0)
        temp = check_float(temperature, "temperature", minimum=0.0)
        if isinstance(prime, (str, bytes)):
            fail(
                InvalidArgumentError,
                "prime: expected a list of token ids, got a string (map characters to ids first)",
            )
        ids_in = np.asarray(prime) if not isinstance(prime, np.ndarray) else prime
        if ids_in.ndim != 1 or ids_in.size == 0:
            fail(
                ShapeError,
                f"prime: expected a non-empty 1-D list of token ids, got shape {ids_in.shape}",
            )
        inputs = self._inputs(ids_in[None, :], None, name="prime")
        rng = np.random.default_rng(seed)
        if count == 0:
            return []
        # The prime in one forward pass, then one step per new token.
        T = inputs.time
        sequence = self.output == "sequence"
        out = np.empty((1, T, vocab) if sequence else (1, vocab), dtype=np.float32)
        shape = self._state_shape(1)
        h = np.empty(shape, dtype=np.float32)
        c = np.empty(shape, dtype=np.float32) if self.cell == "lstm" else None
        with self._lock.read():
            model.forward(out, **inputs.kwargs(slice(None), T), final_h=h, final_c=c)
        logits = out[0, -1] if sequence else out[0]
        result: list[int] = []
        with self.stream(1) as s:
            s._handle().set(h, c)
            while True:
                result.append(_sample(logits, temp, rng))
                if len(result) == count:
                    return result
                logits = s.step(np.array([result[-1]], dtype=np.int32))[0]

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
        validation_data: tuple[Any, ...] | None = None,
        shuffle: bool = True,
        callbacks: Iterable[Callback] = (),
        verbose: int = 1,
        seed: int | None = 0,
    ) -> History:
        """Trains the model on ``x`` and targets ``y`` (see :meth:`predict` and
        :meth:`evaluate` for their shapes) and returns a :class:`~seqrnn.History`.

        Args:
            epochs: passes over the data.
            batch_size: sequences per optimizer step.
            optimizer: ``"adam"`` (as ``torch.optim.Adam``, with ``beta1``,
                ``beta2``, ``epsilon``) or ``"sgd"`` (with ``momentum``).
            lr: learning rate.
            clip_norm: clip the gradients to this global L2 norm (None: off).
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val,
                lengths_val)``, evaluated after every epoch (``val_loss``,
                ``val_accuracy``).
            shuffle: reshuffle the sequences every epoch (with ``seed``).
            callbacks: :class:`~seqrnn.Callback` objects (e.g.
                :class:`~seqrnn.EarlyStopping`); a callback may set
                ``model.stop_training = True``.
            verbose: 0 silent; 1 a progress bar on a terminal (tqdm's when
                installed), one line per epoch otherwise; 2 one line per epoch.
            seed: seed of the shuffling (None: a fresh one).

        The optimizer state (Adam's moments, the step count) carries over to the
        next ``fit`` call when it uses the same optimizer, ``momentum``, betas,
        ``epsilon`` and ``clip_norm`` (a new ``lr`` is applied to it), so
        calling ``fit`` twice is like training longer; any other setting starts
        a fresh optimizer, and :meth:`reset_optimizer` forces one.

        Ctrl-C (KeyboardInterrupt) stops training after the running batch: the
        model keeps the weights of the last completed step and ``fit`` returns
        the history of the completed epochs, with ``history.interrupted`` set
        (and says so unless ``verbose=0``).

        The History's ``history`` holds, per epoch, ``loss`` (mean over the
        epoch's valid positions, before each step's update), ``accuracy`` for
        cross-entropy models, and ``val_loss``/``val_accuracy`` with
        validation data.
        """
        model = self._model()
        inputs = self._inputs(x, lengths)
        targets = self._targets(y, inputs)
        n_epochs = check_int(epochs, "epochs", minimum=0)
        step = check_int(batch_size, "batch_size")
        assert n_epochs is not None and step is not None
        learning_rate = check_float(lr, "lr", minimum=0.0, inclusive=False)
        key = _optimizer_key(optimizer, momentum, beta1, beta2, epsilon, clip_norm)
        if verbose not in (0, 1, 2) or isinstance(verbose, bool):
            fail(InvalidArgumentError, f"verbose: expected 0, 1 or 2, got {verbose!r}")
        validation = self._validation(validation_data)
        callbacks = list(callbacks)
        for cb in callbacks:
            if not any(hasattr(cb, hook) for hook in _HOOKS):
                fail(InvalidArgumentError, f"callbacks: {cb!r} is not a Callback")
        seed_value = optional_int(seed, "seed", minimum=0)
        trainer = self._trainer_for(model, key, learning_rate)

        N = inputs.batch
        steps = math.ceil(N / step)
        metrics = ["loss"] + (["accuracy"] if self.loss == "cross_entropy" else [])
        if validation is not None:
            metrics += ["val_" + m for m in metrics]
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
        progress = ProgressBar(verbose)
        cbs = CallbackList([history, *callbacks, progress], self, params)
        self.history = history
        self.stop_training = False
        rng = np.random.default_rng(seed_value)
        where = {"epoch": 0, "batches": 0}  # for the interruption message
        cbs.on_train_begin({})
        try:
            for epoch in range(n_epochs):
                where.update(epoch=epoch, batches=0)
                cbs.on_epoch_begin(epoch, {})
                order = rng.permutation(N) if shuffle else np.arange(N)
                logs = self._train_epoch(
                    trainer, inputs, targets, order, step, cbs, where
                )
                if validation is not None:
                    scores = self._evaluate_prepared(*validation, _PREDICT_BATCH)
                    logs.update({"val_" + k: v for k, v in scores.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    history.stopped_early = True
                    break
        except KeyboardInterrupt:
            history.interrupted = True
            progress.interrupted(
                f"Training interrupted (KeyboardInterrupt) in epoch "
                f"{where['epoch'] + 1}/{n_epochs} after {where['batches']} of {steps} "
                "batches; the model keeps the weights of its last completed step. "
                f"Returning the history of the {len(history.epoch)} completed epochs."
            )
        cbs.on_train_end({})
        return history

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
        self, model: Any, key: tuple[Any, ...], learning_rate: float
    ) -> Any:
        """The kept trainer if its settings are ``key``, else a fresh one."""
        if self._trainer is None or self._trainer_key != key:
            self.reset_optimizer()
            optimizer, momentum, beta1, beta2, epsilon, clip_norm = key
            with self._lock.write():
                self._trainer = _seqrnn.Trainer(
                    model,
                    optimizer=optimizer,
                    learning_rate=learning_rate,
                    momentum=momentum,
                    beta1=beta1,
                    beta2=beta2,
                    epsilon=epsilon,
                    clip_norm=clip_norm,
                )
            self._trainer_key = key
        self._trainer.set_learning_rate(learning_rate)
        return self._trainer

    def _train_epoch(
        self,
        trainer: Any,
        inputs: Inputs,
        targets: Targets,
        order: np.ndarray,
        step: int,
        cbs: CallbackList,
        where: dict[str, int],
    ) -> dict[str, float]:
        """One pass over the batches of ``order``; returns the epoch's logs."""
        classes = self.loss == "cross_entropy"
        loss_sum = acc_sum = 0.0
        count_sum = 0
        for batch_index, start in enumerate(range(0, len(order), step)):
            part = order[start : start + step]
            t = inputs.time_of(part)
            kwargs = inputs.kwargs(part, t)
            kwargs.update(targets.kwargs(part, t))
            b = kwargs["batch_size"]
            cbs.on_batch_begin(batch_index, {"size": b})
            logs: dict[str, Any] = {"size": b}
            with self._lock.write():
                logs["loss"] = float(trainer.step(**kwargs))
                # The batch's accuracy before the update, as Keras reports
                # it, measured by the step's own forward pass.
                _, accuracy, count = trainer.last_evaluation()
            if classes:
                logs["accuracy"] = float(accuracy)
            logs["count"] = int(count)
            loss_sum += logs["loss"] * count
            acc_sum += logs.get("accuracy", 0.0) * count
            count_sum += int(count)
            where["batches"] = batch_index + 1
            cbs.on_batch_end(batch_index, logs)
            if self.stop_training:
                break
        epoch_logs = {"loss": loss_sum / max(count_sum, 1)}
        if classes:
            epoch_logs["accuracy"] = acc_sum / max(count_sum, 1)
        return epoch_logs

    def _evaluate_prepared(
        self, inputs: Inputs, targets: Targets, step: int
    ) -> dict[str, float]:
        model = self._model()
        loss_sum = acc_sum = 0.0
        count = 0
        for start in range(0, inputs.batch, step):
            part = slice(start, min(start + step, inputs.batch))
            t = inputs.time_of(part)
            with self._lock.read():
                loss, accuracy, n = model.evaluate(
                    **inputs.kwargs(part, t), **targets.kwargs(part, t)
                )
            loss_sum += float(loss) * n
            acc_sum += float(accuracy) * n
            count += int(n)
        out = {"loss": loss_sum / count}
        if self.loss == "cross_entropy":
            out["accuracy"] = acc_sum / count
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
            model.save(_path(path))

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


def _optimizer_key(
    optimizer: Any, momentum: Any, beta1: Any, beta2: Any, epsilon: Any, clip_norm: Any
) -> tuple[Any, ...]:
    """The checked optimizer settings of fit (all but the learning rate)."""
    return (
        _choice(optimizer, _OPTIMIZERS, "optimizer", ("adam", "sgd")),
        check_float(momentum, "momentum", maximum=1.0),
        check_float(beta1, "beta1", maximum=1.0),
        check_float(beta2, "beta2", maximum=1.0),
        check_float(epsilon, "epsilon", minimum=0.0, inclusive=False),
        0.0
        if clip_norm is None
        else check_float(clip_norm, "clip_norm", minimum=0.0, inclusive=False),
    )


def _path(path: Any) -> str:
    """A file path argument (str, bytes or os.PathLike) as str."""
    try:
        value = os.fspath(path)
    except TypeError:
        fail(
            InvalidArgumentError,
            f"path: expected a str or os.PathLike, got {type(path).__name__}",
        )
    return os.fsdecode(value)


def _lengths_of(x: Any, lengths: Any, time: int) -> np.ndarray | None:
    if lengths is not None:
        return np.asarray(lengths, dtype=np.int64)
    if isinstance(x, (list, tuple)) and len(x) and not np.isscalar(x[0]):
        return np.array([len(s) for s in x], dtype=np.int64)
    return None


def _sample(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    values = np.asarray(logits, dtype=np.float64)
    if temperature == 0.0:
        return int(np.argmax(values))
    scaled = values / temperature
    scaled -= scaled.max()
    p = np.exp(scaled)
    cdf = np.cumsum(p)
    index = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return min(index, len(values) - 1)


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
