"""seqrnn.forecast: the scaler (fitted on training data only, exact
inverse), windows against a hand-written loop, one-step and recursive
forecasts of a model with known weights against an explicit numpy loop,
the linear AR baseline against numpy's lstsq, persistence, RMSE/MAE, and
the errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import seqrnn
from seqrnn.forecast import (
    LinearAR,
    Scaler,
    mae,
    make_windows,
    persistence,
    predict_next,
    recursive_forecast,
    rmse,
)


def series(n=80, features=2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    return (
        np.sin(t / (4.0 + np.arange(features))) * 3
        + 10
        + rng.normal(0, 0.1, (n, features))
    )


# -- scaling ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_scaler_fits_on_train_only_and_inverts(method):
    data = series()
    train, test = data[:60], data[60:]
    s = Scaler(method).fit(train)
    z_train = s.transform(train)
    if method == "standard":
        np.testing.assert_allclose(z_train.mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(z_train.std(axis=0), 1, atol=1e-12)
        expected = (test - train.mean(axis=0)) / train.std(axis=0)
    else:
        np.testing.assert_allclose(z_train.min(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(z_train.max(axis=0), 1, atol=1e-12)
        lo, hi = train.min(axis=0), train.max(axis=0)
        expected = (test - lo) / (hi - lo)
    # The test part uses the training statistics, not its own.
    np.testing.assert_allclose(s.transform(test), expected, rtol=1e-12)
    np.testing.assert_allclose(s.inverse_transform(s.transform(test)), test, rtol=1e-12)
    # Refitting on other data changes nothing about the first fit's numbers
    # unless called: fit returns the scaler, fit_transform is fit + transform.
    np.testing.assert_array_equal(Scaler(method).fit_transform(train), z_train)
    # Windows [N, lags, features] scale along the last axis.
    X, _ = make_windows(test, lags=3)
    np.testing.assert_allclose(
        s.transform(X), (X - s.offset_) / s.scale_, rtol=1e-6, atol=1e-12
    )


def test_scaler_one_feature_and_constant():
    s = Scaler().fit([3.0, 5.0])  # mean 4, std 1
    assert s.transform([[4.0], [6.0]]).tolist() == [[0.0], [2.0]]
    assert s.transform(6.0) == 2.0
    c = Scaler("minmax").fit([[2.0, 1.0], [2.0, 3.0]])  # feature 0 constant
    assert c.transform([[2.0, 2.0], [3.0, 3.0]]).tolist() == [[0.0, 0.5], [1.0, 1.0]]


def test_scaler_errors():
    with pytest.raises(seqrnn.InvalidArgumentError, match="method"):
        Scaler("robust")
    with pytest.raises(seqrnn.InvalidArgumentError, match="not fitted"):
        Scaler().transform([1.0])
    with pytest.raises(seqrnn.NonFiniteError):
        Scaler().fit([1.0, np.nan])
    with pytest.raises(seqrnn.ShapeError):
        Scaler().fit(np.zeros((2, 2, 2)))
    with pytest.raises(seqrnn.ShapeError):
        Scaler().fit([])
    with pytest.raises(seqrnn.ShapeError, match="3 features"):
        Scaler().fit(np.ones((4, 3))).transform(np.ones((4, 2)))


# -- windows ----------------------------------------------------------------------


@pytest.mark.parametrize("lags, horizon", [(1, 1), (5, 1), (4, 3), (10, 7)])
def test_windows_match_a_loop(lags, horizon):
    data = series(40, 3)
    X, y = make_windows(data, lags, horizon)
    Xs, ys = [], []
    for i in range(len(data)):
        if i + lags + horizon - 1 >= len(data):
            break
        Xs.append(data[i : i + lags])
        ys.append(data[i + lags + horizon - 1])
    assert X.dtype == np.float32 and y.dtype == np.float32
    assert X.shape == (len(Xs), lags, 3) and y.shape == (len(ys), 3)
    np.testing.assert_array_equal(X, np.array(Xs, dtype=np.float32))
    np.testing.assert_array_equal(y, np.array(ys, dtype=np.float32))


def test_windows_of_a_1d_series():
    X, y = make_windows([1.0, 2.0, 3.0, 4.0], lags=2)
    assert X.tolist() == [[[1.0], [2.0]], [[2.0], [3.0]]]
    assert y.tolist() == [[3.0], [4.0]]


def test_window_errors():
    with pytest.raises(seqrnn.ShapeError, match="too few"):
        make_windows(np.arange(5.0), lags=4, horizon=2)
    with pytest.raises(seqrnn.InvalidArgumentError, match="lags"):
        make_windows(np.arange(5.0), lags=0)
    with pytest.raises(seqrnn.InvalidArgumentError, match="horizon"):
        make_windows(np.arange(5.0), lags=2, horizon=0)
    with pytest.raises(seqrnn.NonFiniteError):
        make_windows([1.0, np.inf, 2.0], lags=1)
    with pytest.raises(seqrnn.InvalidArgumentError):
        make_windows(["a", "b"], lags=1)


# -- forecasts with a model of known weights ---------------------------------------

F, H = 2, 3


def known_model(seed=1):
    """A tanh RNN whose weights are set, so its outputs follow from numpy."""
    rng = np.random.default_rng(seed)
    weights = {
        "rnn.weight_ih_l0": rng.normal(0, 0.6, (H, F)),
        "rnn.weight_hh_l0": rng.normal(0, 0.4, (H, H)),
        "rnn.bias_ih_l0": rng.normal(0, 0.1, H),
        "rnn.bias_hh_l0": rng.normal(0, 0.1, H),
        "head.weight": rng.normal(0, 0.5, (F, H)),
        "head.bias": rng.normal(0, 0.1, F),
    }
    model = seqrnn.Model(
        "rnn", input_size=F, hidden_size=H, output_size=F, output="last", loss="mse"
    )
    model.load_state_dict(weights)
    w = {k: v.astype(np.float32).astype(np.float64) for k, v in weights.items()}
    return model, w


def numpy_next(w, window):
    """The model's equations: h_t = tanh(W_ih x_t + b_ih + W_hh h + b_hh);
    the forecast is head.weight h_T + head.bias."""
    h = np.zeros(H)
    for x in window:
        h = np.tanh(
            w["rnn.weight_ih_l0"] @ x
            + w["rnn.bias_ih_l0"]
            + w["rnn.weight_hh_l0"] @ h
            + w["rnn.bias_hh_l0"]
        )
    return w["head.weight"] @ h + w["head.bias"]


def test_one_step_forecast_matches_numpy():
    model, w = known_model()
    X, _ = make_windows(series(30, F) / 10, lags=6)
    got = predict_next(model, X)
    expected = np.array([numpy_next(w, x) for x in X.astype(np.float64)])
    assert got.shape == (len(X), F)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_recursive_forecast_matches_numpy_loop():
    model, w = known_model()
    data = series(20, F) / 10
    lags, steps = 5, 7
    history = data[-lags:]
    window = list(history)
    expected = []
    for _ in range(steps):  # feed each forecast back in
        nxt = numpy_next(w, np.array(window[-lags:]))
        expected.append(nxt)
        window.append(nxt)
    got = recursive_forecast(model, history, steps)
    assert got.shape == (steps, F)
    np.testing.assert_allclose(got, np.array(expected), atol=1e-5)

    # A batch of histories gives each one's forecast.
    batch = np.stack([data[i : i + lags] for i in range(4)])
    many = recursive_forecast(model, batch, steps)
    assert many.shape == (4, steps, F)
    for i in range(4):
        np.testing.assert_allclose(
            many[i], recursive_forecast(model, batch[i], steps), atol=1e-6
        )

    # With a scaler: history in original units, forecasts scaled back.
    s = Scaler().fit(data * 50 + 7)
    raw = s.inverse_transform(history)
    np.testing.assert_allclose(
        recursive_forecast(model, raw, steps, scaler=s),
        s.inverse_transform(np.array(expected)),
        rtol=1e-5,
        atol=1e-4,
    )


def test_forecast_model_checks():
    model, _ = known_model()
    with pytest.raises(seqrnn.ShapeError, match="input_size"):
        predict_next(model, np.zeros((2, 4, 3)))
    seq = seqrnn.Model("gru", input_size=F, hidden_size=4, output_size=F, loss="mse")
    with pytest.raises(seqrnn.InvalidArgumentError, match="output='last'"):
        predict_next(seq, np.zeros((2, 4, F)))
    tokens = seqrnn.Model(
        "gru", vocab_size=5, hidden_size=4, output_size=F, output="last"
    )
    with pytest.raises(seqrnn.InvalidArgumentError, match="token"):
        predict_next(tokens, np.zeros((2, 4, F)))
    with pytest.raises(seqrnn.InvalidArgumentError, match="predict"):
        predict_next(object(), np.zeros((2, 4, F)))
    with pytest.raises(seqrnn.ShapeError, match="windows"):
        predict_next(model, np.zeros((4, F)))
    with pytest.raises(seqrnn.NonFiniteError):
        recursive_forecast(model, np.full((4, F), np.nan), 2)
    with pytest.raises(seqrnn.InvalidArgumentError, match="steps"):
        recursive_forecast(model, np.zeros((4, F)), 0)
    with pytest.raises(seqrnn.InvalidArgumentError, match="scaler"):
        recursive_forecast(model, np.zeros((4, F)), 1, scaler="standard")


# -- baselines and errors -------------------------------------------------------------


def test_linear_ar_matches_lstsq():
    data = series(90, F, seed=3)
    X, y = make_windows(data, lags=4)
    ar = LinearAR().fit(X, y)
    design = np.hstack([np.ones((len(X), 1)), X.reshape(len(X), -1).astype(np.float64)])
    solution = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(ar.intercept_, solution[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ar.coef_, solution[1:], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ar.predict(X), design @ solution, rtol=1e-10)
    # An exact AR(2) process is recovered.
    x = [1.0, 0.5]
    for _ in range(40):
        x.append(0.6 * x[-1] - 0.3 * x[-2] + 2.0)
    X2, y2 = make_windows(x, lags=2)
    ar2 = LinearAR().fit(X2, y2)
    np.testing.assert_allclose(ar2.coef_[:, 0], [-0.3, 0.6], atol=1e-6)
    np.testing.assert_allclose(ar2.intercept_, [2.0], atol=1e-5)


def test_linear_ar_errors():
    with pytest.raises(seqrnn.InvalidArgumentError, match="not fitted"):
        LinearAR().predict(np.zeros((1, 2, 1)))
    X, y = make_windows(np.arange(10.0), lags=2)
    with pytest.raises(seqrnn.ShapeError, match="targets"):
        LinearAR().fit(X, y[:-1])
    with pytest.raises(seqrnn.ShapeError, match="as fitted"):
        LinearAR().fit(X, y).predict(np.zeros((1, 3, 1)))


def test_persistence_and_metrics():
    X, y = make_windows([1.0, 2.0, 4.0, 7.0], lags=2)
    p = persistence(X)
    assert p.tolist() == [[2.0], [4.0]]
    assert rmse(y, p) == pytest.approx(np.sqrt((2**2 + 3**2) / 2))
    assert mae(y, p) == pytest.approx(2.5)
    assert rmse([[1.0, 2.0]], [[1.0, 2.0]]) == 0.0
    with pytest.raises(seqrnn.ShapeError, match="differ in shape"):
        rmse([1.0, 2.0], [1.0])
    with pytest.raises(seqrnn.ShapeError, match="empty"):
        mae([], [])
    with pytest.raises(seqrnn.NonFiniteError):
        mae([1.0], [np.nan])


# -- the library path against numpy and the generic Python path ----------------------


class Wrapper:
    """A model seen only through predict(): forecast_* take the generic loop."""

    def __init__(self, model):
        self.model = model

    def predict(self, windows):
        return self.model.predict(windows)


def test_library_and_generic_paths_agree():
    model, w = known_model()
    data = series(300, F) / 10
    X, _ = make_windows(data, lags=4)  # 296 windows: more than one library chunk
    got = predict_next(model, X)
    expected = np.array([numpy_next(w, x) for x in X.astype(np.float64)])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got, predict_next(Wrapper(model), X), rtol=0, atol=1e-7)
    s = Scaler("minmax").fit(data * 3 - 1)
    raw = s.inverse_transform(X[:5])
    lib = recursive_forecast(model, raw, 6, scaler=s)
    loop = recursive_forecast(Wrapper(model), raw, 6, scaler=s)
    np.testing.assert_allclose(lib, loop, rtol=1e-6, atol=1e-9)


def test_forecast_errors_of_the_library():
    model, _ = known_model()
    with pytest.raises(seqrnn.InvalidArgumentError, match="loss='mse'"):
        classifier = seqrnn.Model(
            "lstm", input_size=F, hidden_size=4, output_size=F, output="last"
        )
        predict_next(classifier, np.zeros((2, 4, F)))
    with pytest.raises(seqrnn.ShapeError, match="scaler"):
        recursive_forecast(model, np.zeros((4, F)), 2, scaler=Scaler().fit([1.0, 2.0]))
    with pytest.raises(seqrnn.InvalidArgumentError, match="not fitted"):
        recursive_forecast(model, np.zeros((4, F)), 2, scaler=Scaler())
    # Weights whose forecasts overflow float32: an error, not infinities.
    big = model.state_dict()
    big["rnn.weight_ih_l0"] = np.ones((H, F))
    big["head.weight"] = np.full((F, H), 3e38)
    model.load_state_dict(big)
    with pytest.raises(seqrnn.NonFiniteError, match="forecast"):
        predict_next(model, np.full((1, 3, F), 10.0))
    model.close()
    with pytest.raises(seqrnn.InvalidArgumentError, match="closed"):
        predict_next(model, np.zeros((1, 3, F)))


def test_linear_ar_min_norm_like_lstsq():
    """Collinear designs (a constant series) and fewer windows than
    coefficients: the minimum-norm solution, as lstsq gives."""
    for values, lags in (([3.0] * 12, 2), ([1.0, 2.0, 4.0, 0.0, -1.0, 5.0], 4)):
        X, y = make_windows(values, lags=lags)
        ar = LinearAR().fit(X, y)
        design = np.hstack(
            [np.ones((len(X), 1)), X.reshape(len(X), -1).astype(np.float64)]
        )
        solution = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0]
        np.testing.assert_allclose(ar.intercept_, solution[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ar.coef_, solution[1:], rtol=1e-9, atol=1e-12)


def test_scaler_constant_standard_and_gaps():
    s = Scaler().fit([[0.1, 1.0], [0.1, 3.0], [0.1, 5.0]])
    assert s.offset_.tolist()[0] == 0.1 and s.scale_.tolist()[0] == 1.0
    np.testing.assert_allclose(s.scale_[1], np.std([1.0, 3.0, 5.0]), rtol=1e-15)
    # A gap survives scaling (transform does not reject NaN; fit does).
    out = s.transform([[np.nan, 3.0]])
    assert np.isnan(out[0, 0]) and out[0, 1] == 0.0


def test_extension_buffers():
    ext = seqrnn._seqrnn
    with pytest.raises(TypeError, match="float64"):
        ext.forecast_rmse(np.zeros(2, np.float32), np.zeros(2, np.float32))
    with pytest.raises(seqrnn.ShapeError, match="at least 12"):
        ext.forecast_persistence(np.zeros(11), 2, 3, 2, np.zeros(4))
    with pytest.raises(seqrnn.InvalidArgumentError, match="read-only"):
        out = np.zeros(4)
        out.flags.writeable = False
        ext.forecast_persistence(np.zeros(12), 2, 3, 2, out)
    with pytest.raises(seqrnn.BufferTooSmallError):
        ext.forecast_persistence(np.zeros(12), 2, 3, 2, np.zeros(3))
    with pytest.raises(seqrnn.ShapeError, match="differ"):
        ext.forecast_mae(np.zeros(3), np.zeros(4))
