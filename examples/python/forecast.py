"""Forecasting yearly sunspot numbers (1700-2008) with an LSTM.

The series is statsmodels' sunspots data set (Wolfer's yearly sunspot
numbers). The model sees the last --lags years (scaled with a Scaler fitted
on the training years only) and predicts the next year (output="last",
loss="mse"); training uses the head of the series and the last --test years
are held out. An average of --ensemble LSTMs from different seeds is
compared, on the held-out tail, with two baselines that see the same lags:
persistence (next year = this year) and a linear autoregressive model fitted
by least squares. Reports RMSE and MAE of one-step forecasts (each from the
true previous years) and of recursive multi-step forecasts (each model's own
forecasts fed back in, --horizon years ahead from every origin in the tail).

    python examples/python/forecast.py           # full run, under a minute
    python examples/python/forecast.py --quick   # a few seconds (CI)

The last line is machine-readable:
``RESULT rnn_rmse=... ar_rmse=... persistence_rmse=... seconds=...``.
Needs statsmodels (pip install statsmodels) for the data; without it the
script uses a synthetic noisy 11-year cycle and says so.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

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


def load_series() -> tuple[np.ndarray, str]:
    """The yearly sunspot numbers, or a synthetic stand-in."""
    try:
        import statsmodels.api as sm
    except ImportError:
        print(
            "forecast: statsmodels is not installed (pip install statsmodels); "
            "using a synthetic noisy 11-year cycle instead"
        )
        rng = np.random.default_rng(0)
        t = np.arange(309)
        wave = np.abs(np.sin(np.pi * t / 11.0)) ** 1.5
        return 80 * wave * (1 + 0.3 * np.sin(t / 40.0)) + rng.normal(0, 6, t.size), (
            "synthetic"
        )
    data = sm.datasets.sunspots.load_pandas().data
    return data["SUNACTIVITY"].to_numpy(dtype=np.float64), "sunspots 1700-2008"


class Ensemble:
    """The mean forecast of several models (anything with predict)."""

    def __init__(self, models: list[seqrnn.Model]) -> None:
        self.models = models

    def predict(self, windows: np.ndarray) -> np.ndarray:
        return np.mean([predict_next(m, windows) for m in self.models], axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run for CI")
    parser.add_argument("--lags", type=int, default=12, help="years the models see")
    parser.add_argument("--test", type=int, default=60, help="held-out final years")
    parser.add_argument("--horizon", type=int, default=5, help="recursive steps")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--ensemble", type=int, default=5, help="models averaged")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.ensemble = 60, 1
    seqrnn.set_num_threads(args.threads)
    began = time.perf_counter()

    series, name = load_series()
    train = series[: -args.test]
    scaler = Scaler("standard").fit(train)  # the training years only
    X, y = make_windows(scaler.transform(series), args.lags)
    n_train = len(train) - args.lags  # windows whose target is a training year
    X_train, y_train, X_test = X[:n_train], y[:n_train], X[n_train:]
    truth = series[-args.test :]
    print(
        f"{name}: {len(series)} years; training on the first {len(train)}, "
        f"holding out the last {args.test}; windows of {args.lags} years"
    )

    models = []
    for k in range(args.ensemble):
        model = seqrnn.Model(
            "lstm",
            input_size=1,
            hidden_size=args.hidden,
            output_size=1,
            output="last",
            loss="mse",
            seed=args.seed + k,
        )
        model.fit(
            X_train,
            y_train,
            epochs=args.epochs,
            batch_size=args.batch,
            lr=args.lr,
            seed=args.seed + k,
            verbose=0,
        )
        models.append(model)
    rnn = Ensemble(models)
    ar = LinearAR().fit(X_train, y_train)
    train_seconds = time.perf_counter() - began

    def one_step(predictor) -> np.ndarray:
        return scaler.inverse_transform(predictor(X_test))[:, 0]

    forecasts = {
        f"LSTM (mean of {len(models)})": one_step(rnn.predict),
        "linear AR": one_step(ar.predict),
        "persistence": one_step(persistence),
    }
    print(f"\none-step forecasts of the last {args.test} years:")
    print(f"  {'model':<20} {'RMSE':>8} {'MAE':>8}")
    scores = {}
    for label, forecast in forecasts.items():
        scores[label] = rmse(truth, forecast)
        print(f"  {label:<20} {scores[label]:8.2f} {mae(truth, forecast):8.2f}")

    # Recursive forecasts from every origin whose horizon stays in the tail:
    # the window ends at year t, and h steps of the model's own forecasts
    # give year t + h.
    h = args.horizon
    origins = np.arange(len(train) - args.lags, len(series) - args.lags - h + 1)
    windows = make_windows(series, args.lags, horizon=1)[0][origins]
    target = np.stack([series[o + args.lags : o + args.lags + h] for o in origins])
    print(f"\nrecursive forecasts 1..{h} years ahead ({len(origins)} origins), RMSE:")
    print(f"  {'model':<20} " + " ".join(f"{f'+{k + 1}':>7}" for k in range(h)))
    for label, predictor in ((list(forecasts)[0], rnn), ("linear AR", ar)):
        path = recursive_forecast(predictor, windows, h, scaler=scaler)[:, :, 0]
        row = [rmse(target[:, k], path[:, k]) for k in range(h)]
        print(f"  {label:<20} " + " ".join(f"{v:7.2f}" for v in row))
    flat = [rmse(target[:, k], windows[:, -1, 0]) for k in range(h)]
    print(f"  {'persistence':<20} " + " ".join(f"{v:7.2f}" for v in flat))

    seconds = time.perf_counter() - began
    rnn_rmse, ar_rmse, naive_rmse = scores.values()
    verdict = (
        "below both baselines"
        if rnn_rmse < min(ar_rmse, naive_rmse)
        else ("NOT below both baselines")
    )
    print(
        f"\none-step RMSE: LSTM {rnn_rmse:.2f}, linear AR {ar_rmse:.2f}, persistence "
        f"{naive_rmse:.2f} ({verdict}); trained in {train_seconds:.1f} s, {seconds:.1f} s in all"
    )
    print(
        f"RESULT rnn_rmse={rnn_rmse:.4f} ar_rmse={ar_rmse:.4f} "
        f"persistence_rmse={naive_rmse:.4f} seconds={seconds:.1f}"
    )


if __name__ == "__main__":
    main()
