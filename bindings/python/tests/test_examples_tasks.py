"""The task examples run: examples/python/{sst2_sentiment,truecasing,forecast}.py
--quick in a subprocess each, with their machine-readable RESULT line parsed
and checked for sane values (the full runs' targets are in the README's
gallery; quick runs only show that the pipeline works and learns)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "python"
DATA = REPO.parent / "shared" / "data"


def run_quick(script: str) -> tuple[dict[str, float], str]:
    """Runs ``script --quick`` and returns its RESULT values and output."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, f"{script}: expected one RESULT line:\n{done.stdout}"
    values = {}
    for item in lines[0].split()[1:]:
        key, _, value = item.partition("=")
        values[key] = float(value)
    for key, value in values.items():
        assert math.isfinite(value), f"{script}: {key}={value}"
    assert 0 < values["seconds"] < 300
    return values, done.stdout


def test_sst2_sentiment_quick():
    values, out = run_quick("sst2_sentiment.py")
    for key in ("test_accuracy", "macro_f1", "dev_accuracy"):
        assert 0 <= values[key] <= 1
    if (DATA / "sst2" / "train.txt").is_file():
        assert "vocabulary:" in out and "from train only" in out
        # A fifth of the data and a few epochs: clearly above chance.
        assert values["test_accuracy"] > 0.55
    else:
        assert "built-in sample" in out


def test_truecasing_quick():
    values, out = run_quick("truecasing.py")
    for key in ("bi_f1", "uni_f1"):
        assert 0 < values[key] <= 1
    if (DATA / "tinyshakespeare.txt").is_file():
        # Upper case is 7.6% of the characters: F1 well above what guessing
        # gives (about 0.15).
        assert values["bi_f1"] > 0.6 and values["uni_f1"] > 0.6
    assert "restored held-out text:" in out


def test_forecast_quick():
    values, out = run_quick("forecast.py")
    rnn, ar, naive = (
        values["rnn_rmse"],
        values["ar_rmse"],
        values["persistence_rmse"],
    )
    assert rnn > 0 and ar > 0 and naive > 0
    # On a cycle of about 11 years the lags beat "same as last year" by far.
    assert ar < naive and rnn < naive
    assert "recursive forecasts" in out


@pytest.mark.parametrize(
    "script", ["sst2_sentiment.py", "truecasing.py", "forecast.py"]
)
def test_help(script):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "--quick" in done.stdout
