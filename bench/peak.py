"""The machine's measured fp32 peak, for the "% of peak" columns.

``peak_flops.c`` (a register-only FMA loop: AVX-512 when the CPU has it, else
AVX2 + FMA, 16 independent accumulator chains per thread, pthreads) is compiled
with the system C compiler into ``bench/.build/`` (cached by a digest of the
source, the compiler and the flags) and run for each thread count, a few
repetitions each; the best repetition counts. Its rate is FLOPs per second of
CPU time the threads actually got, so other processes taking turns on the
cores lower it less than they would a wall-clock rate (both are recorded).

When there is no C compiler, or compiling or running fails, the benchmark
falls back to the nominal figure of issue 4 (540 GFLOP/s for the 2 cores, 270
per thread) and says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from specs import NOMINAL_PEAK_GFLOPS_PER_THREAD

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "peak_flops.c"
CACHE = HERE / ".build"
FLAGS = ("-O2", "-pthread")

#: Repetitions of the FMA loop per thread count (the best one counts).
REPETITIONS = 5


@dataclasses.dataclass
class Peak:
    """The peak the benchmark divides by.

    Attributes:
        measured: True when ``peak_flops`` ran; False: the nominal figure.
        gflops_by_threads: peak GFLOP/s of all threads together, by thread
            count (measured, or the nominal figure times the threads).
        note: a sentence for the report (what was measured, or why not).
        details: everything recorded (the program's output per thread count,
            the compiler, the binary).
    """

    measured: bool
    gflops_by_threads: dict[int, float]
    note: str
    details: dict[str, Any]

    def gflops(self, threads: int) -> float:
        """Peak GFLOP/s of ``threads`` threads: the measured figure for that
        thread count, else the best measured per-thread figure (or the
        nominal one) times ``threads``."""
        if threads in self.gflops_by_threads:
            return self.gflops_by_threads[threads]
        return threads * self.per_thread()

    def per_thread(self) -> float:
        """The best per-thread figure over the measured thread counts."""
        return max(
            (g / n for n, g in self.gflops_by_threads.items()),
            default=NOMINAL_PEAK_GFLOPS_PER_THREAD,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "source": "measured" if self.measured else "nominal",
            "gflops_by_threads": {str(n): g for n, g in self.gflops_by_threads.items()},
            "gflops_per_thread": self.per_thread(),
            "nominal_gflops_per_thread": NOMINAL_PEAK_GFLOPS_PER_THREAD,
            "nominal_gflops_2_threads": 2 * NOMINAL_PEAK_GFLOPS_PER_THREAD,
            "note": self.note,
            **self.details,
        }


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def build() -> tuple[Path, dict[str, Any]]:
    """Compiles peak_flops.c (or finds it in the cache); returns the binary
    and what describes the build. Raises RuntimeError on failure."""
    cc = _compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (tried $CC, cc, gcc, clang)")
    try:
        version = subprocess.run(
            [cc, "--version"], capture_output=True, text=True, timeout=30
        ).stdout.splitlines()[:1]
    except (OSError, subprocess.SubprocessError):
        version = []
    digest = hashlib.sha256(
        SOURCE.read_bytes() + "\0".join([cc, *version, *FLAGS]).encode()
    ).hexdigest()[:12]
    binary = CACHE / f"peak_flops-{digest}"
    info = {
        "compiler": cc,
        "compiler_version": version[0] if version else "unknown",
        "flags": " ".join(FLAGS),
        "binary": str(binary),
    }
    if binary.is_file():
        return binary, info
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = binary.with_name(binary.name + f".{os.getpid()}.tmp")
    try:
        proc = subprocess.run(
            [cc, *FLAGS, "-o", str(tmp), str(SOURCE)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise RuntimeError(f"{cc} failed: {e}") from e
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{cc} failed (status {proc.returncode}): {tail}")
    os.replace(tmp, binary)
    for stale in CACHE.glob("peak_flops-*"):
        if stale != binary and not stale.name.endswith(".tmp"):
            stale.unlink(missing_ok=True)  # builds of older sources
    return binary, info


def run(binary: Path, threads: int, reps: int = REPETITIONS) -> dict[str, Any]:
    """One run of the FMA loop with ``threads`` threads: the program's JSON."""
    proc = subprocess.run(
        [str(binary), str(threads), str(reps)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{binary.name} {threads} failed (status {proc.returncode}): "
            + proc.stderr.strip()
        )
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def measure(thread_counts: Sequence[int]) -> Peak:
    """The measured peak for each of ``thread_counts``, or the nominal one
    (with the reason) when the loop cannot be built or run."""
    counts = sorted(set(thread_counts))
    try:
        binary, info = build()
        runs = {n: run(binary, n) for n in counts}
    except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as e:
        nominal = {n: n * NOMINAL_PEAK_GFLOPS_PER_THREAD for n in counts}
        note = (
            f"peak not measured ({e}); using issue 4's nominal "
            f"{2 * NOMINAL_PEAK_GFLOPS_PER_THREAD:.0f} GFLOP/s for 2 cores "
            f"({NOMINAL_PEAK_GFLOPS_PER_THREAD:.0f} per thread)"
        )
        return Peak(False, nominal, note, {"error": str(e)})
    gflops = {n: float(r["gflops_cpu_time"]) for n, r in runs.items()}
    isa = runs[counts[0]]["isa"]
    parts = ", ".join(
        f"{g:.0f} GFLOP/s for {n} thread{'s' if n > 1 else ''}"
        for n, g in gflops.items()
    )
    note = f"peak measured here ({isa} FMA loop, per second of CPU time): {parts}"
    if 2 in gflops:
        nominal = 2 * NOMINAL_PEAK_GFLOPS_PER_THREAD
        note += (
            f"; issue 4's nominal {nominal:.0f} GFLOP/s for the 2 cores is "
            f"{nominal / gflops[2]:.2f}x the measured 2-thread peak"
        )
    details = {
        "method": "bench/peak_flops.c: register-only FMA loop, 16 independent "
        "accumulator chains per thread; best of "
        f"{REPETITIONS} repetitions of FLOPs per second of the threads' CPU time",
        **info,
        "runs": {str(n): r for n, r in runs.items()},
    }
    return Peak(True, gflops, note, details)
