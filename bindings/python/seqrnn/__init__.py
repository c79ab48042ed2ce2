"""seqrnn: recurrent networks (RNN, LSTM, GRU) on numpy arrays, without a framework.

Train with a Keras-like :meth:`Model.fit`, run with :meth:`Model.predict`,
stream step by step with :meth:`Model.stream`, sample with
:meth:`Model.generate`, and exchange weights with PyTorch through
:meth:`Model.state_dict` (PyTorch's names and shapes) and safetensors files.

>>> import numpy as np, seqrnn
>>> model = seqrnn.Model("gru", input_size=1, hidden_size=16, output_size=1, output="last", loss="mse")
>>> x = np.random.default_rng(0).normal(size=(64, 8, 1))
>>> y = x.sum(axis=1)                                 # [batch, 1]: the running sum
>>> before = model.evaluate(x, y)["loss"]
>>> history = model.fit(x, y, epochs=30, batch_size=16, lr=1e-2, verbose=0)
>>> model.evaluate(x, y)["loss"] < before
True

The compute runs in ``libseqrnn`` (Swift, BLAS) through the thin C extension
``seqrnn._seqrnn``; ``seqrnn.__version__`` is the library's version and
:func:`blas_info` names the BLAS in use.
"""

from __future__ import annotations

from . import _seqrnn
from . import forecast as forecast  # seqrnn.forecast: scaling, windows, baselines
from . import inspect_states as inspect_states  # Model.record's Recording
from . import plots as plots  # seqrnn.plots: heatmaps, text activations, curves
from . import text as text  # seqrnn.text: tokenizer, vocabulary, length buckets
from .callbacks import Callback, EarlyStopping, History, LambdaCallback
from .errors import (
    BufferTooSmallError,
    Error,
    FileError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    NonFiniteError,
    OutOfMemoryError,
    OutOfRangeError,
    ShapeError,
    UnknownNameError,
    UnsupportedError,
)
from .metrics import Metrics
from .model import _PRECISION_NAMES, _PRECISIONS, IncompatibleKeys, Model, _choice, load
from .seq2seq import Seq2Seq
from .stream import Stream

__version__: str = _seqrnn.version_string()


def blas_info() -> str:
    """The BLAS the library uses, e.g. ``"OpenBLAS 0.3.21 (cooperlake)"``, or
    ``"built-in"`` when no BLAS library could be loaded."""
    return str(_seqrnn.blas_info())


def set_num_threads(threads: int) -> None:
    """Sets how many threads seqrnn's compute may use (default: every CPU).

    >>> import seqrnn
    >>> seqrnn.set_num_threads(1); seqrnn.get_num_threads()
    1
    >>> seqrnn.set_num_threads(2)
    """
    _seqrnn.set_num_threads(threads)


def get_num_threads() -> int:
    """How many threads seqrnn's compute may use."""
    return int(_seqrnn.get_num_threads())


def precision_available(precision: str) -> bool:
    """Whether this machine can run a :attr:`Model.precision`:
    ``"float32"`` always, ``"bfloat16"`` on CPUs with AMX-BF16.

    >>> import seqrnn
    >>> seqrnn.precision_available("float32")
    True
    """
    chosen = _choice(precision, _PRECISIONS, "precision", _PRECISION_NAMES)
    return bool(_seqrnn.precision_available(chosen))


__all__ = [
    "BufferTooSmallError",
    "Callback",
    "EarlyStopping",
    "Error",
    "FileError",
    "FormatError",
    "History",
    "IncompatibleKeys",
    "InternalError",
    "InvalidArgumentError",
    "LambdaCallback",
    "Metrics",
    "Model",
    "NonFiniteError",
    "OutOfMemoryError",
    "OutOfRangeError",
    "Seq2Seq",
    "ShapeError",
    "Stream",
    "UnknownNameError",
    "UnsupportedError",
    "__version__",
    "blas_info",
    "get_num_threads",
    "load",
    "precision_available",
    "set_num_threads",
]
