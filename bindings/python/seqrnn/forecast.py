"""Time-series forecasting tools: scaling fitted on training data, lag
windows, one-step and recursive multi-step forecasts, error measures and
naive baselines to beat.

>>> import numpy as np
>>> from seqrnn.forecast import Scaler, make_windows, persistence, rmse
>>> series = np.sin(np.arange(60) / 3.0)
>>> train, test = series[:45], series[45:]
>>> scaler = Scaler("standard").fit(train)            # training data only
>>> X, y = make_windows(scaler.transform(test), lags=4)
>>> X.shape, y.shape                                   # [N, lags, features], [N, features]
((11, 4, 1), (11, 1))
>>> naive = scaler.inverse_transform(persistence(X))   # tomorrow = today
>>> round(rmse(scaler.inverse_transform(y), naive), 3)
0.242

A seqrnn model for these windows takes ``input_size=features`` and gives
``output_size=features`` values from its last step: ``seqrnn.Model("lstm",
input_size=1, hidden_size=32, output_size=1, output="last", loss="mse")``,
trained with ``fit(X, y)``. :func:`recursive_forecast` then forecasts
several steps ahead by feeding its own forecasts back in.

The numerics run in the library (the forecasting section of ``seqrnn.h``,
in double precision), so C, Swift and Python give the same numbers; this
module shapes numpy arrays for it. :func:`predict_next` and
:func:`recursive_forecast` also take any object with ``predict(windows)``
(an ensemble, :class:`LinearAR`), looped over here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _seqrnn
from ._inputs import check_int
from .errors import InvalidArgumentError, NonFiniteError, ShapeError, fail
from .model import Model

__all__ = [
    "LinearAR",
    "Scaler",
    "mae",
    "make_windows",
    "persistence",
    "predict_next",
    "recursive_forecast",
    "rmse",
]

# seqrnn_scaler_method
_METHODS = {"standard": _seqrnn.SCALER_STANDARD, "minmax": _seqrnn.SCALER_MINMAX}


def _floats(values: Any, name: str) -> np.ndarray:
    """``values`` as a C-contiguous float64 array, or an InvalidArgumentError."""
    try:
        return np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        fail(InvalidArgumentError, f"{name}: expected an array of numbers ({exc})")


def _series(values: Any, name: str) -> np.ndarray:
    """A float64 series as ``[time, features]`` (1-D becomes one feature);
    the library checks the values."""
    arr = _floats(values, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        fail(
            ShapeError,
            f"{name}: expected a series shaped [time] or [time, features], got shape "
            f"{np.shape(values)}",
        )
    return arr


class Scaler:
    """Per-feature scaling, fitted on the training part of a series only (so
    no information from the held-out part leaks into training).

    Args:
        method: ``"standard"`` (``(x - mean) / std``, population std) or
            ``"minmax"`` (``(x - min) / (max - min)``, so the training data
            spans ``[0, 1]``).

    A feature that is constant in the training data is only shifted (its
    scale is 1). :meth:`transform` and :meth:`inverse_transform` take
    arrays whose last axis holds the features (or, for one feature, any
    shape), and return float64. ``offset_`` and ``scale_`` hold the fitted
    statistics (``scaled = (x - offset_) / scale_``); the library's
    ``seqrnn_scaler_*`` calls compute them and apply them.

    >>> s = Scaler("minmax").fit([2.0, 4.0, 6.0])
    >>> s.transform([4.0, 8.0]).tolist()
    [0.5, 1.5]
    >>> s.inverse_transform([0.5, 1.5]).tolist()
    [4.0, 8.0]
    """

    def __init__(self, method: str = "standard") -> None:
        if method not in _METHODS:
            fail(
                InvalidArgumentError,
                f"method: expected 'standard' or 'minmax', got {method!r}",
            )
        self.method = method
        self.offset_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, train: Any) -> Scaler:
        """Learns the offset and scale of each feature of ``train``
        (``[time]`` or ``[time, features]``, finite); returns the scaler."""
        data = _series(train, "train")
        offset = np.empty(data.shape[1])
        scale = np.empty(data.shape[1])
        _seqrnn.scaler_fit(_METHODS[self.method], data, *data.shape, offset, scale)
        self.offset_, self.scale_ = offset, scale
        return self

    def fit_transform(self, train: Any) -> np.ndarray:
        """``fit(train).transform(train)``."""
        return self.fit(train).transform(train)

    def _arrays(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The fitted statistics as contiguous float64 arrays."""
        if self.offset_ is None or self.scale_ is None:
            fail(
                InvalidArgumentError,
                f"{name}: the Scaler is not fitted; call fit(train) first",
            )
        offset = np.ascontiguousarray(self.offset_, dtype=np.float64).reshape(-1)
        scale = np.ascontiguousarray(self.scale_, dtype=np.float64).reshape(-1)
        return offset, scale

    def _apply(self, values: Any, inverse: bool) -> np.ndarray:
        offset, scale = self._arrays("values")
        arr = _floats(values, "values")
        features = offset.size
        if features > 1 and (arr.ndim == 0 or arr.shape[-1] != features):
            fail(
                ShapeError,
                f"values: expected {features} features on the last axis, got shape {arr.shape}",
            )
        out = np.empty_like(arr)
        call = _seqrnn.scaler_inverse_transform if inverse else _seqrnn.scaler_transform
        call(offset, scale, arr.reshape(-1), out.reshape(-1))
        return out if out.ndim else out[()]

    def transform(self, values: Any) -> np.ndarray:
        """``values`` in the scaled units."""
        return self._apply(values, inverse=False)

    def inverse_transform(self, values: Any) -> np.ndarray:
        """Scaled ``values`` back in the original units."""
        return self._apply(values, inverse=True)

    def __repr__(self) -> str:
        state = "fitted" if self.offset_ is not None else "not fitted"
        return f"Scaler({self.method!r}, {state})"


def make_windows(
    series: Any, lags: int, horizon: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Cuts a series into lag windows and their targets.

    Args:
        series: ``[time]`` or ``[time, features]``.
        lags: steps in each window (the model's input length).
        horizon: how far after a window's last step its target lies
            (1: the next step).

    Returns ``(X, y)`` with ``X[i] = series[i : i + lags]`` (float32
    ``[N, lags, features]``) and ``y[i] = series[i + lags + horizon - 1]``
    (float32 ``[N, features]``), ``N = time - lags - horizon + 1``.

    >>> X, y = make_windows(np.arange(6.0), lags=3, horizon=2)
    >>> X[:, :, 0].tolist(), y[:, 0].tolist()
    ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [4.0, 5.0])
    """
    data = _series(series, "series")
    n_lags = check_int(lags, "lags")
    ahead = check_int(horizon, "horizon")
    time, features = data.shape
    # Too few steps leave nothing to allocate; the library says so.
    count = max(time - n_lags - ahead + 1, 0)
    X = np.empty((count, n_lags, features))
    y = np.empty((count, features))
    _seqrnn.make_windows(data, time, features, n_lags, ahead, X, y)
    return X.astype(np.float32), y.astype(np.float32)


def _windows(windows: Any, name: str = "windows") -> np.ndarray:
    """Float64 windows ``[N, lags, features]`` (values unchecked)."""
    arr = _floats(windows, name)
    if arr.ndim != 3 or 0 in arr.shape:
        fail(
            ShapeError,
            f"{name}: expected windows shaped [N, lags, features], got shape {arr.shape}",
        )
    return arr


def predict_next(model: Any, windows: Any) -> np.ndarray:
    """One-step forecasts: the value after each window, ``[N, features]``
    (float64).

    ``model`` is a trained :class:`seqrnn.Model` with ``output="last"``,
    ``loss="mse"`` and ``input_size == output_size == features`` (the
    library's ``seqrnn_forecast_next`` runs it), or any object whose
    ``predict(windows)`` returns ``[N, features]`` (e.g. :class:`LinearAR`).
    """
    X = _windows(windows)
    if isinstance(model, Model):
        out = np.empty((X.shape[0], X.shape[2]))
        with model._lock.read():
            _seqrnn.forecast_next(model._model(), X, *X.shape, out)
        return out
    if not np.isfinite(X).all():
        fail(NonFiniteError, "windows: values must be finite")
    features = X.shape[2]
    _check_predictor(model, features)
    out = np.asarray(model.predict(X.astype(np.float32)), dtype=np.float64)
    if out.shape != (X.shape[0], features):
        fail(
            ShapeError,
            f"model: predict gave shape {out.shape} for {X.shape[0]} windows; "
            f"expected [{X.shape[0]}, {features}] (one next value per window)",
        )
    return out


def _check_predictor(model: Any, features: int) -> None:
    if not callable(getattr(model, "predict", None)):
        fail(
            InvalidArgumentError,
            f"model: expected a seqrnn.Model or an object with predict(windows), got {model!r}",
        )
    # An object that says its sizes: check they fit windows of this width.
    for attr in ("input_size", "output_size"):
        size = getattr(model, attr, None)
        if size is not None and size != features:
            fail(
                ShapeError,
                f"model: {attr}={size}, but the windows have {features} features; "
                "forecasts are fed back as inputs, so both must equal the features",
            )


def recursive_forecast(
    model: Any, history: Any, steps: int, *, scaler: Scaler | None = None
) -> np.ndarray:
    """Multi-step forecasts by feeding predictions back: the window is the
    last ``lags`` values of ``history``; the model predicts the next value,
    which is appended to the window (and the oldest value dropped), and so
    on for ``steps`` steps.

    Args:
        model: as in :func:`predict_next` (a :class:`seqrnn.Model` runs in
            the library, ``seqrnn_forecast_recursive``, in one call).
        history: one window ``[lags, features]`` (or ``[lags]`` for one
            feature), or a batch ``[N, lags, features]``, forecast together.
        steps: how many steps ahead.
        scaler: if given, ``history`` is in original units: it is scaled
            before the model sees it and the forecasts are scaled back.

    Returns float64 ``[steps, features]`` for one window, ``[N, steps,
    features]`` for a batch.

    >>> ar = LinearAR().fit(*make_windows(np.arange(10.0), lags=2))
    >>> recursive_forecast(ar, [8.0, 9.0], 3)[:, 0].round(6).tolist()
    [10.0, 11.0, 12.0]
    """
    arr = _floats(history, "history")
    single = arr.ndim in (1, 2)
    if arr.ndim == 1:
        arr = arr[:, None]
    if single:
        arr = arr[None]
    n_steps = check_int(steps, "steps")
    window = _windows(arr, "history")
    if scaler is not None and not isinstance(scaler, Scaler):
        fail(InvalidArgumentError, f"scaler: expected a Scaler, got {scaler!r}")
    if isinstance(model, Model):
        offset, scale = scaler._arrays("scaler") if scaler is not None else (None, None)
        if offset is not None and offset.size != window.shape[2]:
            fail(
                ShapeError,
                f"scaler: fitted on {offset.size} features, but the history has "
                f"{window.shape[2]}",
            )
        out = np.empty((window.shape[0], n_steps, window.shape[2]))
        with model._lock.read():
            _seqrnn.forecast_recursive(
                model._model(), window, *window.shape, n_steps, offset, scale, out
            )
        return out[0] if single else out
    if scaler is not None:
        window = scaler.transform(window)
    window = window.copy()
    out = np.empty((window.shape[0], n_steps, window.shape[2]))
    for k in range(n_steps):
        nxt = predict_next(model, window)
        out[:, k] = nxt
        window[:, :-1] = window[:, 1:]
        window[:, -1] = nxt
    if scaler is not None:
        out = scaler.inverse_transform(out)
    return out[0] if single else out


def persistence(windows: Any) -> np.ndarray:
    """The naive forecast "the next value is the last one": each window's
    last step, ``[N, features]`` (for any horizon)."""
    X = _windows(windows)
    out = np.empty((X.shape[0], X.shape[2]))
    _seqrnn.forecast_persistence(X, *X.shape, out)
    return out


class LinearAR:
    """A linear autoregressive baseline: the next value is an affine
    function of the window's values, fitted by least squares on
    ``make_windows`` output: the minimum-norm solution
    ``numpy.linalg.lstsq`` gives, computed by the library
    (``seqrnn_linear_ar_fit``: Householder QR and a Jacobi SVD in double).
    With several features each one is predicted from all features' lags (a
    VAR).

    ``coef_`` is ``[lags * features, features]`` (rows in the order of
    ``windows.reshape(N, -1)``) and ``intercept_`` is ``[features]``.

    >>> X, y = make_windows(2.0 * np.arange(8.0) + 1.0, lags=3)
    >>> LinearAR().fit(X, y).predict([[[15.0], [17.0], [19.0]]]).round(6).tolist()
    [[21.0]]
    """

    def __init__(self) -> None:
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None

    def fit(self, windows: Any, targets: Any) -> LinearAR:
        """Fits to windows ``[N, lags, features]`` and their next values
        ``[N, features]`` (finite); returns the model."""
        X = _windows(windows)
        y = _floats(targets, "targets")
        if y.ndim == 1:
            y = y[:, None]
        if y.shape != (X.shape[0], X.shape[2]):
            fail(
                ShapeError,
                f"targets: expected shape [{X.shape[0]}, {X.shape[2]}] (one next value per "
                f"window), got {np.shape(targets)}",
            )
        n, lags, features = X.shape
        coef = np.empty((lags * features, features))
        intercept = np.empty(features)
        _seqrnn.linear_ar_fit(X, y, n, lags, features, coef, intercept)
        self.coef_, self.intercept_ = coef, intercept
        self._shape = X.shape[1:]
        return self

    def predict(self, windows: Any) -> np.ndarray:
        """The next value after each window, ``[N, features]``."""
        if self.coef_ is None or self.intercept_ is None:
            fail(
                InvalidArgumentError,
                "LinearAR: not fitted; call fit(windows, targets) first",
            )
        X = _windows(windows)
        if X.shape[1:] != self._shape:
            fail(
                ShapeError,
                f"windows: expected shape [N, {self._shape[0]}, {self._shape[1]}] "
                f"(as fitted), got {X.shape}",
            )
        out = np.empty((X.shape[0], X.shape[2]))
        _seqrnn.linear_ar_predict(
            np.ascontiguousarray(self.coef_, dtype=np.float64),
            np.ascontiguousarray(self.intercept_, dtype=np.float64),
            X,
            *X.shape,
            out,
        )
        return out

    def __repr__(self) -> str:
        fitted = "not fitted" if self.coef_ is None else f"lags={self._shape[0]}"
        return f"LinearAR({fitted})"


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    a = _floats(y_true, "y_true")
    b = _floats(y_pred, "y_pred")
    if a.shape != b.shape:
        fail(ShapeError, f"y_true and y_pred differ in shape: {a.shape} and {b.shape}")
    return a.reshape(-1), b.reshape(-1)


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error over all entries (``seqrnn_forecast_rmse``).

    >>> rmse([1.0, 2.0], [1.0, 4.0]) == 2 ** 0.5
    True
    """
    return _seqrnn.forecast_rmse(*_pair(y_true, y_pred))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error over all entries (``seqrnn_forecast_mae``).

    >>> mae([1.0, 2.0], [1.0, 4.0])
    1.0
    """
    return _seqrnn.forecast_mae(*_pair(y_true, y_pred))
