"""The exceptions seqrnn raises.

Every error is a :class:`seqrnn.Error`; each subclass is also the matching
built-in exception, so ordinary ``except`` clauses work:

============================  ====================================================
``InvalidArgumentError``      ``ValueError``: a bad value (size <= 0, unknown name)
``ShapeError``                ``ValueError``: an array of the wrong shape
``OutOfRangeError``           ``ValueError``: a token id, class id or length out
                              of range
``NonFiniteError``            ``ValueError``: NaN or infinity in inputs, targets,
                              weights, the loss or the gradients
``BufferTooSmallError``       ``ValueError``
``UnknownNameError``          ``KeyError``: a tensor name the model does not have
``UnsupportedError``          ``NotImplementedError``: e.g. streaming a
                              bidirectional model
``FileError``                 ``OSError``: a file that cannot be read or written
``FormatError``               a ``FileError``: not a seqrnn model file, or a newer
                              format version
``OutOfMemoryError``          ``MemoryError``
``InternalError``             a bug in seqrnn; please report it
============================  ====================================================

Each has ``.message`` (the detailed text) and ``.status`` (the C API's status
code).

>>> import seqrnn
>>> issubclass(seqrnn.ShapeError, ValueError), issubclass(seqrnn.FormatError, OSError)
(True, True)
>>> try:
...     seqrnn.load("/nonexistent/model.safetensors")
... except OSError as e:
...     print(type(e).__name__, isinstance(e, seqrnn.Error))
FileError True
"""

from __future__ import annotations

from typing import NoReturn

from ._seqrnn import (
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

__all__ = [
    "BufferTooSmallError",
    "Error",
    "FileError",
    "FormatError",
    "InternalError",
    "InvalidArgumentError",
    "NonFiniteError",
    "OutOfMemoryError",
    "OutOfRangeError",
    "ShapeError",
    "UnknownNameError",
    "UnsupportedError",
]

# The C API's status codes (seqrnn.h), for errors raised on the Python side.
_STATUS: dict[type, int] = {
    InvalidArgumentError: 1,
    ShapeError: 3,
    OutOfRangeError: 4,
    NonFiniteError: 5,
    OutOfMemoryError: 6,
    FileError: 7,
    FormatError: 8,
    BufferTooSmallError: 10,
    UnknownNameError: 11,
    UnsupportedError: 12,
    InternalError: 13,
}


def make_error(cls: type[Error], message: str) -> Error:
    """An instance of ``cls`` carrying ``message`` (and ``.status``/``.message``
    like the errors the extension raises)."""
    exc = cls(message)
    for attr, value in (("message", message), ("status", _STATUS.get(cls, 0))):
        try:
            if getattr(exc, attr, None) in (None, "", 0):
                setattr(exc, attr, value)
        except (AttributeError, TypeError):  # read-only attribute in the extension
            pass
    return exc


def fail(cls: type[Error], message: str) -> NoReturn:
    """Raises ``cls(message)`` (see :func:`make_error`)."""
    raise make_error(cls, message)
