"""Turning user inputs (numpy arrays, lists of sequences) into the exact
buffers the extension takes, with error messages that name the argument and
the expected shape. Internal: used by :mod:`seqrnn.model`."""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from .errors import (
    InvalidArgumentError,
    NonFiniteError,
    OutOfRangeError,
    ShapeError,
    fail,
)

Index = Union[slice, np.ndarray]


def check_path(path: Any, name: str = "path") -> str:
    """A file path argument (str, bytes or os.PathLike) as str."""
    try:
        value = os.fspath(path)
    except TypeError:
        fail(
            InvalidArgumentError,
            f"{name}: expected a str or os.PathLike, got {type(path).__name__}",
        )
    return os.fsdecode(value)


def shape_text(shape: Sequence[Any]) -> str:
    """``[batch, time, 3]`` style text for an expected shape."""
    return "[" + ", ".join(str(d) for d in shape) + "]"


def optional_int(value: Any, name: str, *, minimum: int = 1) -> int | None:
    """None, or ``value`` checked by :func:`check_int`."""
    return None if value is None else check_int(value, name, minimum=minimum)


def check_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int >= minimum, or an InvalidArgumentError naming it."""
    if isinstance(value, (bool, np.bool_)):
        fail(InvalidArgumentError, f"{name}: expected an integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        fail(
            InvalidArgumentError,
            f"{name}: expected an integer, got {value!r} ({type(value).__name__})",
        )
    if number < minimum:
        fail(
            InvalidArgumentError,
            f"{name}: expected an integer >= {minimum}, got {number}",
        )
    return number


def check_float(
    value: Any,
    name: str,
    *,
    minimum: float = 0.0,
    inclusive: bool = True,
    maximum: float | None = None,
) -> float:
    """``value`` as a finite float in range, or an InvalidArgumentError naming it."""
    if isinstance(value, (bool, np.bool_, str, bytes)):
        fail(InvalidArgumentError, f"{name}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail(
            InvalidArgumentError,
            f"{name}: expected a number, got {value!r} ({type(value).__name__})",
        )
    if not np.isfinite(number):
        fail(InvalidArgumentError, f"{name}: expected a finite number, got {number}")
    if number < minimum or (not inclusive and number == minimum):
        op = ">=" if inclusive else ">"
        fail(
            InvalidArgumentError,
            f"{name}: expected a number {op} {minimum}, got {number}",
        )
    if maximum is not None and number >= maximum:
        fail(
            InvalidArgumentError, f"{name}: expected a number < {maximum}, got {number}"
        )
    return number


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return f"a {type(value).__name__}"


def _as_array(value: Any, name: str) -> np.ndarray:
    """np.asarray with a seqrnn error instead of numpy's for ragged or odd data."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        fail(
            InvalidArgumentError,
            f"{name}: expected an array or a list of sequences, got {_describe(value)}",
        )
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        fail(InvalidArgumentError, f"{name}: cannot be read as an array ({exc})")


def _is_ragged_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and not isinstance(value, np.ndarray)


def _integers(arr: np.ndarray, name: str, what: str) -> np.ndarray:
    """Integer-valued ``arr`` (integer dtype, or floats holding whole numbers)."""
    kind = arr.dtype.kind
    if kind in "iu":
        return arr
    if kind == "f":
        finite = np.isfinite(arr)
        if finite.all() and np.array_equal(arr, np.floor(arr)):
            if arr.size and (arr.min() < -(2**62) or arr.max() > 2**62):
                fail(OutOfRangeError, f"{name}: {what} are far out of range")
            return arr.astype(np.int64)
        fail(
            InvalidArgumentError,
            f"{name}: {what} must be integers, got non-integer values of dtype {arr.dtype}",
        )
    fail(InvalidArgumentError, f"{name}: {what} must be integers, got {_describe(arr)}")


def _floats(arr: np.ndarray, name: str, what: str) -> np.ndarray:
    """``arr`` as float32 (from any real numeric dtype)."""
    if arr.dtype.kind not in "fiub":
        fail(
            InvalidArgumentError,
            f"{name}: {what} must be real numbers, got {_describe(arr)}",
        )
    return arr.astype(np.float32, copy=False)


def _pad(
    seqs: Sequence[Any], name: str, item_ndim: int, what: str, convert: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Pads a list of variable-length sequences (each ``item_ndim`` dims, time
    first) with zeros; returns (padded array, lengths int64)."""
    if len(seqs) == 0:
        fail(ShapeError, f"{name}: empty list; expected at least one sequence")
    items = []
    for i, seq in enumerate(seqs):
        arr = _as_array(seq, f"{name}[{i}]")
        if arr.ndim != item_ndim:
            expected = (
                "[time]"
                if item_ndim == 1
                else "[time, features]"
                if item_ndim == 2
                else "[time, ...]"
            )
            hint = ""
            if arr.ndim == 0:
                hint = (
                    " (a list of numbers is one sequence: wrap it in a list, [[...]])"
                )
            fail(
                ShapeError,
                f"{name}[{i}]: expected {what} shaped {expected}, got shape {arr.shape}{hint}",
            )
        if arr.shape[0] == 0:
            fail(
                ShapeError,
                f"{name}[{i}]: empty sequence; every sequence needs at least one step",
            )
        items.append(convert(arr, f"{name}[{i}]"))
    trailing = {item.shape[1:] for item in items}
    if len(trailing) > 1:
        fail(
            ShapeError,
            f"{name}: sequences differ in their per-step shape: {sorted(trailing)}",
        )
    lengths = np.array([item.shape[0] for item in items], dtype=np.int64)
    out = np.zeros(
        (len(items), int(lengths.max()), *items[0].shape[1:]), dtype=items[0].dtype
    )
    for i, item in enumerate(items):
        out[i, : item.shape[0]] = item
    return out, lengths


def valid_mask(lengths: np.ndarray | None, batch: int, time: int) -> np.ndarray | None:
    """[batch, time] bool mask of the steps within each length (None: all)."""
    if lengths is None:
        return None
    return np.arange(time)[None, :] < lengths[:, None]


def _check_lengths(
    lengths: Any, batch: int, time: int, name: str = "lengths"
) -> np.ndarray:
    arr = _as_array(lengths, name)
    arr = _integers(arr, name, "lengths")
    if arr.ndim != 1 or arr.shape[0] != batch:
        fail(
            ShapeError,
            f"{name}: expected shape [{batch}] (one length per sequence of x), got shape {arr.shape}",
        )
    bad = np.flatnonzero((arr < 1) | (arr > time))
    if bad.size:
        i = int(bad[0])
        fail(
            OutOfRangeError,
            f"{name}[{i}] = {int(arr[i])} is out of range: each length must be in [1, {time}] (the time steps of x)",
        )
    return np.ascontiguousarray(arr, dtype=np.int64)


@dataclass
class Inputs:
    """Padded, converted, checked inputs: int32 tokens [N, T] or float32
    features [N, T, I], with optional int64 lengths [N]."""

    data: np.ndarray
    lengths: np.ndarray | None
    tokens: bool

    @property
    def batch(self) -> int:
        return int(self.data.shape[0])

    @property
    def time(self) -> int:
        return int(self.data.shape[1])

    def time_of(self, index: Index) -> int:
        """The time steps a sub-batch needs: its longest length."""
        if self.lengths is None:
            return self.time
        return int(self.lengths[index].max())

    def kwargs(self, index: Index, time: int) -> dict[str, Any]:
        """Keyword arguments of the extension's batch calls for a sub-batch."""
        data = self.data[index]
        if time != data.shape[1]:
            data = data[:, :time]
        data = np.ascontiguousarray(data)
        out: dict[str, Any] = {"batch_size": int(data.shape[0]), "seq_len": int(time)}
        out["tokens" if self.tokens else "features"] = data
        if self.lengths is not None:
            out["lengths"] = np.ascontiguousarray(self.lengths[index])
        return out


def prepare_inputs(
    x: Any,
    lengths: Any,
    *,
    tokens: bool,
    vocab_size: int,
    input_size: int,
    name: str = "x",
    lengths_name: str = "lengths",
) -> Inputs:
    """Checks and converts ``x`` (and ``lengths``) for a model; see
    :meth:`seqrnn.Model.predict` for what is accepted."""
    if tokens:
        expected = "[batch, time]"
        what = "token ids"
    else:
        expected = f"[batch, time, {input_size}]"
        what = "features"

    def convert(arr: np.ndarray, where: str) -> np.ndarray:
        if tokens:
            return _integers(arr, where, "token ids")
        return _floats(arr, where, "features")

    ragged_lengths = None
    if _is_ragged_list(x) and len(x) and not np.isscalar(x[0]):
        data, ragged_lengths = _pad(x, name, 1 if tokens else 2, what, convert)
    else:
        data = _as_array(x, name)
        if data.dtype.kind in "OUSV":
            fail(
                InvalidArgumentError,
                f"{name}: expected {what} shaped {expected}, got {_describe(data)}",
            )
        if data.ndim != (2 if tokens else 3):
            hint = ""
            if tokens and data.ndim == 1:
                hint = " (for one sequence, pass [ids])"
            elif not tokens and data.ndim == 2:
                hint = " (for one sequence, pass x[None]; for one feature per step, x[..., None])"
            fail(
                ShapeError,
                f"{name}: expected {what} shaped {expected}, got shape {data.shape}{hint}",
            )
        data = convert(data, name)
    if data.shape[0] == 0 or data.shape[1] == 0:
        fail(
            ShapeError,
            f"{name}: expected {what} shaped {expected} with batch and time >= 1, got shape {data.shape}",
        )
    if not tokens and data.shape[2] != input_size:
        fail(
            ShapeError,
            f"{name}: expected {what} shaped {expected}, got shape {data.shape} ({data.shape[2]} features per step, the model has input_size={input_size})",
        )

    batch, time = int(data.shape[0]), int(data.shape[1])
    if lengths is not None:
        lens: np.ndarray | None = _check_lengths(lengths, batch, time, lengths_name)
    else:
        lens = ragged_lengths

    # Values at valid steps must be in range / finite; padding past a length is
    # ignored by the library, so it is zeroed rather than rejected.
    mask = valid_mask(lens, batch, time)
    if tokens:
        data = _checked_ids(
            data, mask, vocab_size, name, "token id", "ids", "vocab_size"
        )
    else:
        data = _checked_finite(data, mask, name, "inputs")
    return Inputs(data=data, lengths=lens, tokens=tokens)


def _checked_ids(
    data: np.ndarray,
    mask: np.ndarray | None,
    limit: int,
    name: str,
    noun: str,
    plural: str,
    limit_name: str,
) -> np.ndarray:
    """int32 ids, each valid one in [0, limit); padding (outside mask) may
    hold anything and is zeroed, since the library ignores it."""
    bad = (data < 0) | (data >= limit)
    if mask is not None:
        bad &= mask
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(
            OutOfRangeError,
            f"{name}: {noun} {int(data[where])} at {list(where)} is out of range: "
            f"{plural} must be in [0, {limit}) ({limit_name})",
        )
    if mask is not None and data.size and (data.min() < 0 or data.max() >= limit):
        data = np.where(mask, data, 0)
    return np.ascontiguousarray(data, dtype=np.int32)


def _checked_finite(
    data: np.ndarray, mask: np.ndarray | None, name: str, what: str
) -> np.ndarray:
    """float32 values, finite at every valid step; non-finite padding (outside
    mask) is zeroed, since the library ignores it."""
    finite = np.isfinite(data)
    if not finite.all():
        bad = ~finite
        if mask is not None:
            bad &= mask[:, :, None]
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            fail(
                NonFiniteError,
                f"{name}: non-finite value {float(data[where])} at {list(where)}; {what} must be finite",
            )
        data = np.where(finite, data, np.float32(0))
    return np.ascontiguousarray(data, dtype=np.float32)


@dataclass
class Targets:
    """Converted, checked targets: int32 class ids or float32 values, batch
    first, and optional float32 loss weights ([batch, time] or [batch], zero
    past each sequence's length)."""

    data: np.ndarray
    classes: bool
    sequence: bool
    weights: np.ndarray | None = None

    def kwargs(self, index: Index, time: int) -> dict[str, Any]:
        data = self.data[index]
        if self.sequence and time != data.shape[1]:
            data = data[:, :time]
        data = np.ascontiguousarray(data)
        out = {"target_classes" if self.classes else "target_values": data}
        if self.weights is not None:
            weights = self.weights[index]
            if self.sequence:
                weights = weights[:, :time]
            out["loss_weights"] = np.ascontiguousarray(weights)
        return out


def attach_weights(
    targets: Targets, sample_weight: Any, inputs: Inputs, name: str = "sample_weight"
) -> Targets:
    """Targets with loss weights: ``sample_weight`` shaped ``[batch, time]``
    (sequence outputs; a list of per-sequence weights is padded) or
    ``[batch]`` (last outputs), finite and >= 0."""
    if sample_weight is None:
        return targets
    batch, time = inputs.batch, inputs.time
    shape = (batch, time) if targets.sequence else (batch,)
    if targets.sequence and _is_ragged_list(sample_weight):
        weights = np.zeros(shape, np.float32)
        if len(sample_weight) != batch:
            fail(
                ShapeError, f"{name}: {len(sample_weight)} sequences, but x has {batch}"
            )
        for i, row in enumerate(sample_weight):
            row = np.asarray(row, dtype=np.float64).ravel()[:time]
            weights[i, : len(row)] = row
    else:
        try:
            weights = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError):
            fail(ShapeError, f"{name}: expected numbers shaped {list(shape)}")
        if weights.shape != shape:
            fail(
                ShapeError,
                f"{name}: expected shape {list(shape)} (like the targets), got {list(weights.shape)}",
            )
    if not np.all(np.isfinite(weights)):
        fail(NonFiniteError, f"{name}: weights must be finite")
    if np.any(weights < 0):
        fail(InvalidArgumentError, f"{name}: weights must be >= 0")
    weights = weights.astype(np.float32)
    if targets.sequence and inputs.lengths is not None:
        weights = weights * (np.arange(time)[None, :] < inputs.lengths[:, None])
    return Targets(
        data=targets.data,
        classes=targets.classes,
        sequence=targets.sequence,
        weights=np.ascontiguousarray(weights, dtype=np.float32),
    )


def prepare_targets(
    y: Any,
    inputs: Inputs,
    *,
    classes: bool,
    sequence: bool,
    output_size: int,
    name: str = "y",
) -> Targets:
    """Checks and converts ``y`` against already prepared inputs."""
    batch, time = inputs.batch, inputs.time
    if classes:
        what = "class ids"
        expected = "[batch, time]" if sequence else "[batch]"
        shape: tuple[int, ...] = (batch, time) if sequence else (batch,)
    else:
        what = "target values"
        expected = (
            f"[batch, time, {output_size}]" if sequence else f"[batch, {output_size}]"
        )
        shape = (batch, time, output_size) if sequence else (batch, output_size)

    def convert(arr: np.ndarray, where: str) -> np.ndarray:
        if classes:
            return _integers(arr, where, "class ids")
        return _floats(arr, where, "target values")

    if sequence and _is_ragged_list(y) and len(y) and not np.isscalar(y[0]):
        item_ndim = 1 if classes or (output_size == 1 and np.ndim(y[0]) == 1) else 2
        data, y_lengths = _pad(y, name, item_ndim, what, convert)
        if len(y_lengths) != batch:
            fail(ShapeError, f"{name}: {len(y_lengths)} sequences, but x has {batch}")
        x_lengths = (
            inputs.lengths if inputs.lengths is not None else np.full(batch, time)
        )
        short = np.flatnonzero(y_lengths < x_lengths)
        if short.size:
            i = int(short[0])
            fail(
                ShapeError,
                f"{name}[{i}]: {int(y_lengths[i])} steps, but x[{i}] has {int(x_lengths[i])}; each target sequence needs one entry per input step",
            )
        if data.shape[1] < time:
            pad = np.zeros(
                (batch, time - data.shape[1], *data.shape[2:]), dtype=data.dtype
            )
            data = np.concatenate([data, pad], axis=1)
        data = data[:, :time]
    else:
        data = _as_array(y, name)
        if data.dtype.kind in "OUSV":
            fail(
                InvalidArgumentError,
                f"{name}: expected {what} shaped {expected}, got {_describe(data)}",
            )
        data = convert(data, name)
    # Friendly equivalents: [batch, 1] class ids for one label per sequence,
    # and a missing trailing axis of size 1 for one output value.
    if data.shape != shape:
        if classes and not sequence and data.shape == (batch, 1):
            data = data.reshape(batch)
        elif not classes and output_size == 1 and data.shape == shape[:-1]:
            data = data.reshape(shape)
    if data.shape != shape:
        fail(
            ShapeError,
            f"{name}: expected {what} shaped {expected} = {shape_text(shape)}, got shape {data.shape}",
        )

    mask = valid_mask(inputs.lengths, batch, time) if sequence else None
    if classes:
        data = _checked_ids(
            data, mask, output_size, name, "class id", "classes", "output_size"
        )
    else:
        data = _checked_finite(data, mask, name, "targets")
    return Targets(data=data, classes=classes, sequence=sequence)


def prepare_state(value: Any, name: str, shape: tuple[int, int, int]) -> np.ndarray:
    """An initial state [layers * directions, batch, hidden] as float32."""
    arr = _floats(_as_array(value, name), name, "states")
    if arr.shape != shape:
        fail(
            ShapeError,
            f"{name}: expected shape [num_layers * directions, batch, hidden_size] = {shape_text(shape)}, got shape {arr.shape}",
        )
    if not np.isfinite(arr).all():
        fail(NonFiniteError, f"{name}: states must be finite")
    return np.ascontiguousarray(arr, dtype=np.float32)
