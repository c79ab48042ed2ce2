"""The language-model examples keep working: each runs with --quick in a
subprocess (as a user would run it) and its printed metrics are checked for
sanity: examples/python/shakespeare_lm.py (validation loss, bits per
character and perplexity consistent with each other and better than
guessing; samples; a saved model) and examples/python/anomaly.py (ROC AUC of
corrupted against clean lines, with its own small model and with the model
shakespeare_lm.py saved)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "python"
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
LICENSES = Path("/usr/share/common-licenses")

pytestmark = [
    pytest.mark.skipif(
        not (EXAMPLES / "shakespeare_lm.py").is_file(),
        reason="the examples are not beside this checkout",
    ),
    pytest.mark.skipif(
        not SHAKESPEARE.is_file() and not (LICENSES / "GPL-3").is_file(),
        reason="neither Tiny Shakespeare nor the fallback corpus is present",
    ),
]


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("lm") / "lm.safetensors"
    return run("shakespeare_lm.py", "--save", str(path)), path


def test_shakespeare_lm_quick(lm_run):
    out, path = lm_run
    vocab = int(re.search(r"vocabulary (\d+)", out).group(1))
    found = re.search(
        r"validation: ([\d.]+) nats/char, ([\d.]+) bits/char, perplexity ([\d.]+)",
        out,
    )
    assert found, out
    nats, bits, perplexity = (float(v) for v in found.groups())
    assert math.isfinite(nats) and 0 < nats < math.log(vocab) - 0.5, out
    assert math.isclose(bits, nats / math.log(2), abs_tol=1e-3)
    assert math.isclose(perplexity, math.exp(nats), rel_tol=1e-3)
    assert out.count("--- sample,") == 4 and "top-p 0.9" in out
    assert path.is_file() and Path(str(path) + ".vocab.json").is_file()


def auc_of(out: str) -> float:
    found = re.search(r"ROC AUC: ([\d.]+)", out)
    assert found, out
    return float(found.group(1))


def test_anomaly_quick_trains_its_own_model():
    out = run("anomaly.py")
    assert 0.6 < auc_of(out) <= 1.0, out
    assert out.count("vs clean:") == 3


def test_anomaly_with_the_saved_model(lm_run):
    _, path = lm_run
    out = run("anomaly.py", "--model", str(path))
    assert 0.6 < auc_of(out) <= 1.0, out
