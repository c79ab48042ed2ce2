"""examples/python/date_normalisation.py --quick runs end to end in a
subprocess: it trains the attention and no-attention models, reports
exact-match accuracies that are numbers in [0, 1], the attention model
learns the task well beyond chance even in quick mode, and its sample
outputs are ISO dates."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = (
    Path(__file__).resolve().parents[3]
    / "examples"
    / "python"
    / "date_normalisation.py"
)


def test_date_normalisation_quick():
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    scores = dict(
        re.findall(
            r"^(attention \(general\)|no attention)\s+exact match ([0-9.]+)", out, re.M
        )
    )
    assert set(scores) == {"attention (general)", "no attention"}, out
    for value in scores.values():
        assert 0.0 <= float(value) <= 1.0
    assert float(scores["attention (general)"]) >= 0.5, out
    beam = re.search(r"\(beam 4: ([0-9.]+)\)", out)
    assert beam and 0.0 <= float(beam.group(1)) <= 1.0, out
    samples = re.findall(r"-> (\S+)$", out, re.M)
    assert len(samples) == 8, out
    assert sum(bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", s)) for s in samples[:4]) >= 3, (
        out
    )
    assert elapsed < 120, f"--quick took {elapsed:.0f} s"
