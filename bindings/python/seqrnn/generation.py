"""Text generation and scoring: sampling with temperature, top-k and top-p,
batches of primes, and per-step surprisal. :meth:`seqrnn.Model.generate` and
:meth:`seqrnn.Model.surprisal` call the functions here, which call the C
library (``seqrnn_model_generate``, ``seqrnn_model_surprisal``).

How a token is drawn (the same in C, Swift and Python): the logits are
divided by ``temperature``; ``top_k`` keeps the k largest; ``top_p`` keeps,
in descending order, each token while the probability mass before it
(renormalised over what top-k kept) is below ``top_p`` (nucleus sampling, as
Hugging Face's ``TopPLogitsWarper``), so at least one token stays; the token
is drawn from the renormalised softmax of what is left. ``greedy=True`` or
``temperature=0`` takes the arg-max. Ties always go to the lower id.

:class:`Sampler` draws from logits you computed yourself, for example while
stepping a :meth:`~seqrnn.Model.stream`:

>>> import numpy as np
>>> from seqrnn.generation import Sampler
>>> sampler = Sampler(seed=0, top_k=2)
>>> logits = np.array([[0.0, 3.0, 2.9, -1.0]], dtype=np.float32)
>>> sorted(set(int(sampler.sample(logits)[0]) for _ in range(200)))  # only the top 2
[1, 2]
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _seqrnn
from ._inputs import check_float, check_int
from .errors import InvalidArgumentError, ShapeError, UnsupportedError, fail

if TYPE_CHECKING:
    from .model import Model

__all__ = ["Sampler", "generate", "surprisal"]

_CHUNK = 256  # sequences per surprisal call, to bound the logits buffer


def _settings(temperature: Any, top_k: Any, top_p: Any, greedy: Any) -> dict[str, Any]:
    """Checked sampling settings as the extension's keyword arguments."""
    temp = check_float(temperature, "temperature", minimum=0.0)
    k = check_int(top_k, "top_k", minimum=0)
    p = check_float(top_p, "top_p", minimum=0.0, inclusive=False)
    if p > 1.0:
        fail(InvalidArgumentError, f"top_p: expected a number in (0, 1], got {p}")
    if not isinstance(greedy, (bool, np.bool_)):
        fail(InvalidArgumentError, f"greedy: expected True or False, got {greedy!r}")
    return {"temperature": temp, "top_k": k, "top_p": p, "greedy": int(greedy)}


def _seed(seed: Any) -> int:
    if seed is None:
        return secrets.randbits(64)
    value = check_int(seed, "seed", minimum=0)
    if value >= 2**64:
        fail(
            InvalidArgumentError,
            f"seed: expected an integer in [0, 2**64), got {value}",
        )
    return value


class Sampler:
    """Draws token ids from rows of logits with its own seeded generator
    (the one :meth:`seqrnn.Model.generate` uses: ``Sampler(seed=s)`` on the
    logits of a one-sequence stream draws what ``generate(..., seed=s)``
    draws). See the module text for ``temperature``, ``top_k``, ``top_p`` and
    ``greedy``. ``seed=None`` picks a random seed. One thread at a time."""

    def __init__(
        self,
        seed: int | None = None,
        *,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        greedy: bool = False,
    ) -> None:
        self._settings = _settings(temperature, top_k, top_p, greedy)
        self._rng = np.zeros(4, dtype=np.int64)
        _seqrnn.rng_init(self._rng, _seed(seed))

    def sample(self, logits: Any) -> np.ndarray:
        """One token id per row of ``logits`` (``[rows, vocab]``, or one row
        ``[vocab]``): an int array ``[rows]`` (``[1]`` for one row)."""
        values = np.asarray(logits, dtype=np.float32)
        if values.ndim == 1:
            values = values[None, :]
        if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
            fail(
                ShapeError,
                f"logits: expected shape [rows, vocab] with rows, vocab >= 1, got {values.shape}",
            )
        values = np.ascontiguousarray(values)
        out = np.empty(values.shape[0], dtype=np.int32)
        _seqrnn.sample_logits(
            values,
            out,
            self._rng,
            rows=values.shape[0],
            count=values.shape[1],
            **self._settings,
        )
        return out.astype(np.int64)


def _primes(prime: Any) -> tuple[list[np.ndarray], bool]:
    """The primes as 1-D arrays, and whether a batch was given."""
    if isinstance(prime, (str, bytes)):
        fail(
            InvalidArgumentError,
            "prime: expected a list of token ids, got a string (map characters to ids first)",
        )
    if isinstance(prime, np.ndarray):
        if prime.ndim == 1:
            return [prime], False
        if prime.ndim == 2:
            return list(prime), True
        fail(
            ShapeError,
            f"prime: expected token ids shaped [time] or [batch, time], got shape {prime.shape}",
        )
    items = list(prime) if isinstance(prime, (list, tuple)) else [prime]
    if not items:
        fail(ShapeError, "prime: expected a non-empty list of token ids, got []")
    nested = [isinstance(p, (list, tuple, np.ndarray)) for p in items]
    if all(nested):
        rows = [np.asarray(p) for p in items]
        for i, row in enumerate(rows):
            if row.ndim != 1:
                fail(
                    ShapeError,
                    f"prime[{i}]: expected a 1-D list of token ids, got shape {row.shape}",
                )
        return rows, True
    if any(nested):
        fail(
            ShapeError,
            "prime: expected a list of token ids or a list of such lists, got a mixture",
        )
    return [np.asarray(items)], False


def _check_language_model(model: Model) -> None:
    vocab = model.vocab_size
    if vocab is None:
        fail(
            InvalidArgumentError,
            "generate: needs a token model (created with vocab_size)",
        )
    if model.output_size != vocab:
        fail(
            InvalidArgumentError,
            f"generate: the model's output_size ({model.output_size}) must equal its vocab_size ({vocab}) "
            "so that each output can be fed back as the next token",
        )
    if model.loss != "cross_entropy":
        fail(
            InvalidArgumentError,
            "generate: needs a cross-entropy model (its outputs are logits over tokens)",
        )
    if model.bidirectional:
        fail(
            UnsupportedError,
            "generate: a bidirectional model cannot generate step by step",
        )


def generate(
    model: Model,
    prime: Any,
    n: int,
    temperature: float = 1.0,
    seed: int | None = None,
    *,
    top_k: int = 0,
    top_p: float = 1.0,
    greedy: bool = False,
) -> list[int] | list[list[int]]:
    """:meth:`seqrnn.Model.generate`."""
    handle = model._model()
    _check_language_model(model)
    count = check_int(n, "n", minimum=0)
    settings = _settings(temperature, top_k, top_p, greedy)
    rows, batched = _primes(prime)
    # A list of rows takes the padding path: each prime is checked (non-empty,
    # integer ids in range) and its length recorded.
    inputs = model._inputs(rows, None, name="prime")
    lengths = inputs.lengths
    assert lengths is not None
    width = inputs.time
    seed_value = _seed(seed)
    out = np.zeros((len(rows), count), dtype=np.int32)
    if count == 0:
        return [[] for _ in rows] if batched else []
    with model._lock.read():
        _seqrnn.generate(
            handle,
            out,
            primes=np.ascontiguousarray(inputs.data, dtype=np.int32),
            lengths=lengths,
            batch_size=len(rows),
            max_prime_len=width,
            n=count,
            seed=seed_value,
            **settings,
        )
    result = out.tolist()
    return result if batched else result[0]


def surprisal(model: Model, x: Any, y: Any, lengths: Any = None) -> np.ndarray:
    """:meth:`seqrnn.Model.surprisal`."""
    handle = model._model()
    if model.loss != "cross_entropy" or model.output != "sequence":
        fail(
            UnsupportedError,
            "surprisal: needs a cross-entropy model with an output at every step (output='sequence')",
        )
    inputs = model._inputs(x, lengths)
    targets = model._targets(y, inputs)
    result = np.zeros((inputs.batch, inputs.time), dtype=np.float32)
    for start in range(0, inputs.batch, _CHUNK):
        index = slice(start, start + _CHUNK)
        time = inputs.time_of(index)
        kwargs = inputs.kwargs(index, time)
        out = np.empty((kwargs["batch_size"], time), dtype=np.float32)
        classes = np.ascontiguousarray(targets.data[index, :time], dtype=np.int32)
        with model._lock.read():
            _seqrnn.surprisal(handle, out, target_classes=classes, **kwargs)
        result[index, :time] = out
    return result
