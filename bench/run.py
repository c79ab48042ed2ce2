"""seqrnn versus PyTorch on CPU, side by side, in one run (issues 4 and 5's benchmark).

Usage (from the repository root; ``bash bench/run.sh`` sets up the venv first)::

    bench/.venv/bin/python bench/run.py [--quick] [--threads 2,1] [--rows NAME,...]

Phases:

0. The machine's fp32 peak: ``peak_flops.c`` (a register-only FMA loop) is
   compiled with the system C compiler into ``bench/.build/`` and run for 1
   and 2 threads (and every ``--threads`` count); the "% of peak" columns
   divide by it. Without a C compiler: issue 4's nominal 540 GFLOP/s for the
   2 cores (270 per thread), and the report says so.
1. Parity, before anything is timed: every PyTorch model's ``state_dict`` is
   loaded into the seqrnn model, and forward outputs must agree to 1e-5 and
   every gradient to 1e-4, relative to the largest magnitude of the PyTorch
   value (small models of every cell, then each selected row's own shape).
   Rows with dropout are checked in evaluation mode (dropout off): random
   masks cannot be compared. Any failure aborts the run.
2. Timing: for each row and thread count, a warm-up of each side, then
   repetitions alternating seqrnn and PyTorch (A B A B ...); the medians of
   the per-iteration times are compared.
3. Peak resident memory of a short training run of each side, each in its own
   child process (``memory_child.py``), and the installed size of each side.

Results are printed and written to ``bench/results/latest.json`` (everything,
every repetition) and ``bench/results/latest.md`` (the tables).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import importlib.metadata as metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import bf16_loss
import numpy as np
import peak as peak_flops
import side_seqrnn
import side_torch
from specs import (
    MEMORY_ROW,
    MEMORY_STEPS,
    NOMINAL_PEAK_GFLOPS_PER_THREAD,
    Batch,
    Row,
    all_rows,
    make_batch,
    row_by_name,
)

HERE = Path(__file__).resolve().parent

#: Tolerances of the parity checks, relative to the PyTorch value's scale.
FORWARD_RTOL = 1e-5
GRADIENT_RTOL = 1e-4
#: The same for seqrnn's opt-in bfloat16 rows (PyTorch float32): bfloat16
#: keeps 8 significant bits, so products are off by about 2^-9 relative and
#: sums of them by a few 1e-3 of the largest values; a wrong weight, gate or
#: step is off by O(1).
BF16_RTOL = 3e-2

#: Rows with dropout: the smallest relative change of the gradients between
#: training mode (masks) and evaluation mode that shows dropout acting.
DROPOUT_ACTS = 1e-2

#: Mean cores used by other processes above which a row is flagged as
#: disturbed (2 threads on a 2-core machine leave nothing for them).
BUSY_FLAG = 0.2

#: Training hyper-parameters of the char-rnn rows (both sides).
LEARNING_RATE = 2e-3
CLIP_NORM = 5.0

#: Pseudo-rows selectable with --rows besides the timed ones.
EXTRA_ROWS = ("memory", "size", "bf16-loss")

#: What each side's timed loop calls, by row kind (printed and recorded).
SEQRNN_PATHS = {
    "train": "seqrnn._seqrnn.Trainer.step (Adam, clip_norm 5)",
    "deepbench": "seqrnn._seqrnn.Trainer.compute_gradients",
    "infer": "seqrnn._seqrnn.Model.forward (preallocated output)",
    "stream": "seqrnn._seqrnn.State.step (preallocated output)",
}
TORCH_PATHS = {
    "train": "zero_grad, module, F.cross_entropy, backward, clip_grad_norm_, Adam.step",
    "deepbench": "zero_grad, module, F.mse_loss (last step), backward",
    "infer": "module under torch.inference_mode()",
    "stream": "module on a [1, 1] input carrying (h, c), torch.inference_mode()",
}


def timed_call(row: Row, side: str) -> str:
    """What ``side``'s timed loop calls for ``row`` (dropout included)."""
    call = (SEQRNN_PATHS if side == "seqrnn" else TORCH_PATHS)[row.kind]
    if side == "seqrnn":
        rates = [
            f"{name}={rate:g}"
            for name, rate in (
                ("dropout", row.dropout),
                ("recurrent_dropout", row.recurrent_dropout),
            )
            if rate
        ]
        return f"{call}; Model({', '.join(rates)})" if rates else call
    if row.recurrent_dropout:
        return (
            f"{call}; the module's recurrent layers are side_torch.VariationalLSTM "
            f"(recurrent dropout {row.recurrent_dropout:g}: one input-projection "
            "GEMM per layer, then per step addmm + gates in eager PyTorch)"
        )
    if row.dropout:
        return f"{call}; nn.LSTM(dropout={row.dropout:g}), module in train mode"
    return call


# -- parity --------------------------------------------------------------------


@dataclasses.dataclass
class Check:
    """One parity comparison: the worst relative difference of a quantity."""

    case: str
    quantity: str
    error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return bool(self.error <= self.tolerance)


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """``max|actual - expected| / max|expected|`` (inf on a shape mismatch)."""
    if actual.shape != expected.shape:
        return float("inf")
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    diff = float(np.max(np.abs(actual.astype(np.float64) - expected)))
    return diff / max(scale, 1e-30)


def small_rows() -> list[Row]:
    """Small models of every cell for the first parity checks: a 2-layer token
    model whose embedding width differs from its hidden size, and a 1-layer
    feature model with an MSE head on the last step."""
    rows = []
    for cell in ("lstm", "gru", "rnn"):
        tokens = Row(
            name=f"small-{cell}-tokens",
            kind="train",
            cell=cell,
            hidden=8,
            layers=2,
            batch=3,
            time=5,
            input_size=6,
            vocab=11,
            output_size=11,
            last=False,
            iters=1,
            quick_iters=1,
            warmup=0,
        )
        features = dataclasses.replace(
            tokens,
            name=f"small-{cell}-features",
            hidden=7,
            layers=1,
            batch=4,
            time=6,
            input_size=5,
            vocab=None,
            output_size=2,
            last=True,
        )
        rows += [tokens, features]
    return rows


def has_dropout(row: Row) -> bool:
    return bool(row.dropout or row.recurrent_dropout)


def tolerances(row: Row) -> tuple[float, float]:
    """(outputs and loss, gradients) parity tolerances of a row."""
    if row.precision == "bfloat16":
        return BF16_RTOL, BF16_RTOL
    return FORWARD_RTOL, GRADIENT_RTOL


def check_row(row: Row, *, gradients: bool, stream_steps: int = 0) -> list[Check]:
    """Parity of one configuration: PyTorch weights loaded into seqrnn, then
    outputs, the loss and (optionally) every gradient compared; with
    ``stream_steps``, also step-by-step outputs against PyTorch's.

    Rows with dropout cannot be compared with dropout on (each side draws its
    own random masks), so they are compared in evaluation mode: outputs of the
    dropout model (seqrnn's ``predict`` never drops; the PyTorch module in
    ``eval()``), and the loss and gradients of the same weights with the
    rates at 0 (seqrnn's ``compute_gradients`` would drop) against the
    PyTorch module's in ``eval()``. One more check makes sure that dropout
    does act in training on both sides: the training-mode loss must differ
    from the evaluation-mode loss."""
    net = side_torch.build(row, seed=1234)
    weights = side_torch.state_dict(net)
    model = side_seqrnn.build(row, weights)
    dropout = has_dropout(row)
    case = f"{row.name} (eval mode)" if dropout else row.name
    forward_rtol, gradient_rtol = tolerances(row)
    checks: list[Check] = []
    try:
        if row.kind == "stream":
            steps = dataclasses.replace(row, time=stream_steps)
            tokens = make_batch(steps, seed=7, batch=1).x.reshape(-1)
            expected = side_torch.stream_numpy(net, tokens)
            actual = side_seqrnn.stream_numpy(model, tokens)
            err = relative_error(actual, expected)
            checks.append(Check(row.name, "stream outputs", err, FORWARD_RTOL))
            return checks
        batch = make_batch(row, seed=7)
        if dropout:
            net.eval()
        expected = side_torch.forward_numpy(net, row, batch)
        actual = side_seqrnn.forward_numpy(model, batch)
        err = relative_error(actual, expected)
        checks.append(Check(case, "outputs", err, forward_rtol))
        if gradients:
            t_loss, t_grads = side_torch.gradients(net, row, batch)
            if dropout:
                # The same weights with the rates at 0: seqrnn's evaluation
                # mode for gradients.
                plain = dataclasses.replace(row, dropout=0.0, recurrent_dropout=0.0)
                no_drop = side_seqrnn.build(plain, weights)
                try:
                    s_loss, s_grads = side_seqrnn.gradients(no_drop, batch)
                finally:
                    no_drop.close()
            else:
                s_loss, s_grads = side_seqrnn.gradients(model, batch)
            err = abs(s_loss - t_loss) / max(abs(t_loss), 1e-30)
            checks.append(Check(case, "loss", err, forward_rtol))
            names = sorted(set(t_grads) | set(s_grads))
            for name in names:
                if name not in t_grads or name not in s_grads:
                    err = float("inf")
                else:
                    err = relative_error(s_grads[name], t_grads[name])
                checks.append(Check(case, f"grad {name}", err, gradient_rtol))
            if dropout:
                # Dropout is on in training: on each side, the gradients with
                # masks differ from the evaluation-mode ones by far more than
                # the parity tolerance (error 0 if so, inf if not).
                net.train()
                _, t_train = side_torch.gradients(net, row, batch)
                _, s_train = side_seqrnn.gradients(model, batch)
                for side, train, evals in (
                    ("seqrnn", s_train, s_grads),
                    ("PyTorch", t_train, t_grads),
                ):
                    moved = max(relative_error(train[n], evals[n]) for n in evals)
                    checks.append(
                        Check(
                            row.name,
                            f"dropout acts in training ({side}: gradients differ "
                            f"from eval mode's by {moved:.1e} relative, needed "
                            f"> {DROPOUT_ACTS:.0e})",
                            0.0 if moved > DROPOUT_ACTS else float("inf"),
                            0.0,
                        )
                    )
    finally:
        model.close()
    return checks


def run_parity(rows: Sequence[Row]) -> list[Check]:
    """Every parity check: small models, then the selected rows' shapes.
    Exits the process (status 1) when any check fails."""
    print("== parity (PyTorch state_dict loaded into seqrnn) ==", flush=True)
    checks: list[Check] = []
    cases: list[tuple[Row, bool, int]] = [(r, True, 0) for r in small_rows()]
    for cell in ("lstm", "gru", "rnn"):
        small_stream = dataclasses.replace(
            small_rows()[0], name=f"small-{cell}-stream", kind="stream", cell=cell
        )
        cases.append((small_stream, False, 12))
    for row in rows:
        cases.append((row, row.kind in ("train", "deepbench"), 20))
    for row, grads, steps in cases:
        start = time.perf_counter()
        found = check_row(row, gradients=grads, stream_steps=steps)
        checks.extend(found)
        worst_out = max((c.error for c in found if "grad" not in c.quantity), default=0)
        worst_grad = max((c.error for c in found if "grad" in c.quantity), default=0)
        status = "ok" if all(c.ok for c in found) else "FAILED"
        grad_text = f", gradients {worst_grad:.1e}" if grads else ""
        if has_dropout(row):
            status += " (eval mode; dropout acts in training)"
        print(
            f"  {row.name:<34} outputs {worst_out:.1e}{grad_text}  {status}"
            f"  ({time.perf_counter() - start:.1f} s)",
            flush=True,
        )
    failed = [c for c in checks if not c.ok]
    if failed:
        print("\nPARITY FAILED: seqrnn and PyTorch disagree; nothing was timed.")
        for c in failed:
            print(
                f"  {c.case}: {c.quantity}: relative difference {c.error:.3e} "
                f"> {c.tolerance:.0e}"
            )
        sys.exit(1)
    print(
        f"  all {len(checks)} checks passed (outputs <= {FORWARD_RTOL:.0e}, "
        f"gradients <= {GRADIENT_RTOL:.0e}; bfloat16 rows <= {BF16_RTOL:.0e}; "
        "relative to PyTorch's largest value)\n",
        flush=True,
    )
    return checks


# -- timing --------------------------------------------------------------------


@dataclasses.dataclass
class Measurement:
    """One row at one thread count: every repetition's seconds per iteration."""

    row: Row
    threads: int
    iters: int
    seqrnn_times: list[float]
    torch_times: list[float]
    others: list[float]
    waited: float = 0.0
    discarded: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: The peak GFLOP/s of ``threads`` threads (measured, or nominal).
    peak_gflops: float = NOMINAL_PEAK_GFLOPS_PER_THREAD

    @property
    def others_mean(self) -> float:
        """Mean cores that other processes used during the repetitions."""
        return statistics.fmean(self.others) if self.others else 0.0

    @property
    def seqrnn_median(self) -> float:
        return statistics.median(self.seqrnn_times)

    @property
    def torch_median(self) -> float:
        return statistics.median(self.torch_times)

    @property
    def ratio(self) -> float:
        """> 1 means seqrnn is better: PyTorch time / seqrnn time, which for
        throughput rows is seqrnn tokens/s / PyTorch tokens/s."""
        return self.torch_median / self.seqrnn_median

    def value(self, seconds: float) -> float:
        """The row's reported metric for a time per iteration: tokens/s,
        milliseconds (deepbench) or microseconds (stream)."""
        if self.row.higher_is_better:
            return self.row.tokens_per_iter / seconds
        if self.row.kind == "stream":
            return seconds * 1e6
        return seconds * 1e3

    def gflops(self, seconds: float) -> float:
        return self.row.flops() / seconds / 1e9

    def peak_share(self, seconds: float) -> float:
        return self.gflops(seconds) / self.peak_gflops

    def to_json(self) -> dict[str, Any]:
        r = self.row
        return {
            "row": r.name,
            "description": r.describe(),
            "kind": r.kind,
            "threads": self.threads,
            "iterations_per_repetition": self.iters,
            "unit": unit(r),
            "flops_per_iteration": r.flops(),
            "peak_gflops": self.peak_gflops,
            "seqrnn": {
                "timed_call": timed_call(r, "seqrnn"),
                "seconds_per_iteration": self.seqrnn_times,
                "median_seconds": self.seqrnn_median,
                "value": self.value(self.seqrnn_median),
                "gflops": self.gflops(self.seqrnn_median),
                "peak_share": self.peak_share(self.seqrnn_median),
            },
            "torch": {
                "timed_call": timed_call(r, "torch"),
                "seconds_per_iteration": self.torch_times,
                "median_seconds": self.torch_median,
                "value": self.value(self.torch_median),
                "gflops": self.gflops(self.torch_median),
                "peak_share": self.peak_share(self.torch_median),
            },
            "ratio": self.ratio,
            "other_processes_cores": self.others,
            "waited_for_quiet_seconds": self.waited,
            "discarded_disturbed_attempts": self.discarded,
        }


def unit(row: Row) -> str:
    """The unit of a row's metric."""
    return {
        "train": "tokens/s",
        "infer": "tokens/s",
        "deepbench": "ms",
        "stream": "us",
    }[row.kind]


Runner = Callable[[int], None]


def runners(row: Row, net: Any, model: Any, batch: Batch) -> tuple[Runner, Runner]:
    """(seqrnn, PyTorch) timed loops of a row."""
    if row.kind == "train":
        kw = {"lr": LEARNING_RATE, "clip_norm": CLIP_NORM}
        return (
            side_seqrnn.train_runner(model, row, batch, **kw),
            side_torch.train_runner(net, row, batch, **kw),
        )
    if row.kind == "deepbench":
        return (
            side_seqrnn.deepbench_runner(model, row, batch),
            side_torch.deepbench_runner(net, row, batch),
        )
    if row.kind == "infer":
        return (
            side_seqrnn.infer_runner(model, row, batch),
            side_torch.infer_runner(net, row, batch),
        )
    tokens = make_batch(dataclasses.replace(row, time=4096), seed=3, batch=1).x
    tokens = tokens.reshape(-1)
    return (
        side_seqrnn.stream_runner(model, row, tokens),
        side_torch.stream_runner(net, row, tokens),
    )


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks() -> tuple[int, int]:
    """(CPU ticks every process on the machine has used, ticks this process
    has used), from /proc/stat and /proc/self/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: busy = all but idle, iowait
    busy = sum(fields[:8]) - fields[3] - fields[4]
    with open("/proc/self/stat", encoding="ascii") as f:
        stat = f.read().rsplit(")", 1)[1].split()
    own = int(stat[11]) + int(stat[12])  # utime, stime
    return busy, own


def timed(run: Runner, iters: int, pause: float) -> tuple[float, float]:
    """Seconds per iteration of ``run(iters)`` after an untimed ``pause`` (so
    that the other side's idle worker threads, which spin for a while after
    their last task, have gone to sleep), and how many cores other processes
    kept busy meanwhile (a sign of a disturbed measurement)."""
    if pause > 0:
        time.sleep(pause)
    busy0, own0 = cpu_ticks()
    start = time.perf_counter()
    run(iters)
    elapsed = time.perf_counter() - start
    busy1, own1 = cpu_ticks()
    others = max(0.0, ((busy1 - busy0) - (own1 - own0)) / _TICKS / elapsed)
    return elapsed / iters, others


def wait_quiet(max_wait: float, window: float = 0.5) -> float:
    """Waits (at most ``max_wait`` seconds) until other processes use less
    than BUSY_FLAG cores over a ``window``; returns the seconds waited."""
    start = time.perf_counter()
    while True:
        busy0, own0 = cpu_ticks()
        time.sleep(window)
        busy1, own1 = cpu_ticks()
        others = ((busy1 - busy0) - (own1 - own0)) / _TICKS / window
        waited = time.perf_counter() - start
        if others < BUSY_FLAG or waited >= max_wait:
            return waited


def set_threads(threads: int) -> None:
    side_seqrnn.set_threads(threads)
    side_torch.set_threads(threads)


def measure_row(
    row: Row,
    thread_counts: Sequence[int],
    reps: int,
    quick: bool,
    pause: float,
    max_wait: float,
    retries: int,
    peak: peak_flops.Peak,
) -> list[Measurement]:
    """Times one row at every thread count, alternating the two sides."""
    net = side_torch.build(row, seed=0)
    model = side_seqrnn.build(row, side_torch.state_dict(net))
    batch = make_batch(row, seed=1)
    iters = row.quick_iters if quick else row.iters
    out = []
    try:
        s_run, t_run = runners(row, net, model, batch)
        for threads in thread_counts:
            discarded: list[Measurement] = []
            while True:
                waited = wait_quiet(max_wait) if max_wait > 0 else 0.0
                set_threads(threads)
                s_run(row.warmup)
                t_run(row.warmup)
                s_times: list[float] = []
                t_times: list[float] = []
                others: list[float] = []
                for _ in range(reps):
                    for run, times in ((s_run, s_times), (t_run, t_times)):
                        seconds, busy = timed(run, iters, pause)
                        times.append(seconds)
                        others.append(busy)
                m = Measurement(
                    row,
                    threads,
                    iters,
                    s_times,
                    t_times,
                    others,
                    waited,
                    peak_gflops=peak.gflops(threads),
                )
                if m.others_mean <= BUSY_FLAG or len(discarded) >= retries:
                    break
                print(format_progress(m) + "  disturbed: measuring again", flush=True)
                discarded.append(m)
            if discarded and m.others_mean > BUSY_FLAG:
                # Every attempt was disturbed: keep the least disturbed one.
                attempts = [*discarded, m]
                m = min(attempts, key=lambda a: a.others_mean)
                discarded = [a for a in attempts if a is not m]
            m.discarded = [a.to_json() for a in discarded]
            out.append(m)
            print(format_progress(m), flush=True)
    finally:
        model.close()
        del net
        gc.collect()
    return out


# -- memory and installed size ----------------------------------------------------


def measure_memory(threads: int) -> dict[str, Any]:
    """Peak and baseline resident memory of each side's short training run,
    each in a child process of its own."""
    child = HERE / "memory_child.py"
    result: dict[str, Any] = {
        "row": MEMORY_ROW,
        "steps": MEMORY_STEPS,
        "threads": threads,
        "method": "each side in its own child process; VmRSS after imports "
        "(baseline) and VmHWM at the end (peak) from /proc/self/status",
    }
    for side in ("seqrnn", "torch"):
        proc = subprocess.run(
            [sys.executable, str(child), side, str(threads), str(MEMORY_STEPS)],
            capture_output=True,
            text=True,
            cwd=HERE,
        )
        if proc.returncode != 0:
            raise SystemExit(
                f"memory_child.py {side} failed (status {proc.returncode}):\n"
                + proc.stderr
            )
        result[side] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = result[side]
        print(
            f"  memory {side:<7} baseline {r['baseline_rss_kib'] / 1024:7.1f} MiB, "
            f"peak {r['peak_rss_kib'] / 1024:7.1f} MiB",
            flush=True,
        )
    result["ratio"] = result["torch"]["peak_rss_kib"] / result["seqrnn"]["peak_rss_kib"]
    return result


def _requirement(text: str) -> tuple[str, set[str], str]:
    """(normalised name, extras, marker) of a requirement string."""
    body, _, marker = text.partition(";")
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[([^\]]*)\])?", body)
    if match is None:
        return "", set(), marker
    extras = {e.strip() for e in (match.group(3) or "").split(",") if e.strip()}
    return _normalise(match.group(1)), extras, marker


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _wanted(marker: str, extras: set[str]) -> bool:
    """Whether a requirement with ``marker`` applies, given the extras asked
    of its distribution (other markers: installed means wanted)."""
    asked = re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
    return not asked or any(
        _normalise(e) in {_normalise(x) for x in extras} for e in asked
    )


def closure(*roots: str) -> list[metadata.Distribution]:
    """``roots`` and every distribution they require, transitively, that is
    installed (extras followed as requested)."""
    installed = {_normalise(d.metadata["Name"]): d for d in metadata.distributions()}
    seen: dict[str, metadata.Distribution] = {}
    todo: list[tuple[str, set[str]]] = [(_normalise(r), set()) for r in roots]
    asked: dict[str, set[str]] = {}
    while todo:
        name, extras = todo.pop()
        dist = installed.get(name)
        if dist is None:
            continue
        new_extras = extras - asked.get(name, set())
        if name in seen and not new_extras:
            continue
        seen[name] = dist
        asked[name] = asked.get(name, set()) | extras
        for req in dist.requires or []:
            dep, dep_extras, marker = _requirement(req)
            if dep and _wanted(marker, asked[name]):
                todo.append((dep, dep_extras))
    return sorted(seen.values(), key=lambda d: _normalise(d.metadata["Name"]))


def dist_bytes(dist: metadata.Distribution) -> int:
    """Bytes on disk of a distribution's installed files (its RECORD)."""
    total = 0
    for f in dist.files or []:
        path = Path(str(dist.locate_file(f)))
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            pass
    return total


def loaded_blas() -> str | None:
    """Path of the BLAS library seqrnn loaded in this process, if any."""
    with open("/proc/self/maps", encoding="ascii", errors="replace") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if re.search(r"lib(openblas|blis|mkl_rt)[^/]*\.so", path):
                return os.path.realpath(path)
    return None


def measure_size() -> dict[str, Any]:
    """Installed bytes of each side: the distribution and every installed
    dependency it pulls in (pip's RECORD files)."""
    result: dict[str, Any] = {
        "method": "sum of the files in each installed distribution's RECORD, "
        "for the package and its installed dependencies (transitively)"
    }
    # numpy is seqrnn's dependency; torch does not require it, but using it
    # from numpy (as here) does.
    for side, roots in (("seqrnn", ("seqrnn",)), ("torch", ("torch", "numpy"))):
        dists = closure(*roots)
        parts = {f"{d.metadata['Name']} {d.version}": dist_bytes(d) for d in dists}
        result[side] = {"bytes": sum(parts.values()), "distributions": parts}
    blas = loaded_blas()
    if blas is not None:
        size = os.path.getsize(blas)
        result["seqrnn"]["system_blas"] = {"path": blas, "bytes": size}
        result["seqrnn"]["bytes_with_system_blas"] = result["seqrnn"]["bytes"] + size
    result["ratio"] = result["torch"]["bytes"] / result["seqrnn"]["bytes"]
    for side in ("seqrnn", "torch"):
        print(
            f"  installed {side:<7} {result[side]['bytes'] / 2**20:9.1f} MiB "
            f"({len(result[side]['distributions'])} distributions)",
            flush=True,
        )
    return result


# -- output --------------------------------------------------------------------


def fmt_value(row: Row, value: float) -> str:
    if row.higher_is_better:
        return f"{value / 1e3:.1f}k tok/s"
    if row.kind == "stream":
        return f"{value:.0f} us"
    return f"{value:.1f} ms"


def fmt_flops(m: Measurement, seconds: float) -> str:
    return f"{m.gflops(seconds):.1f} ({100 * m.peak_share(seconds):.0f}%)"


def format_progress(m: Measurement) -> str:
    s, t = m.seqrnn_median, m.torch_median
    return (
        f"  {m.row.name:<34} {m.threads}T  seqrnn {fmt_value(m.row, m.value(s)):>14}"
        f"  PyTorch {fmt_value(m.row, m.value(t)):>14}  ratio {m.ratio:5.2f}x"
        f"  (others' CPU {m.others_mean:.2f} cores)"
    )


BUSY_NOTE = (
    "others' CPU: mean cores used by other processes on the machine during the "
    f"timed repetitions (from /proc/stat); '!' above {BUSY_FLAG}: the row was "
    "disturbed by other work, its numbers (2-thread ones above all) are unreliable"
)

RATIO_NOTE = (
    "ratio > 1 means seqrnn is better: seqrnn tokens/s / PyTorch tokens/s for "
    "throughput rows (train, infer), PyTorch time / seqrnn time for latency rows "
    "(deepbench, stream)"
)

HEADERS = (
    "row",
    "threads",
    "seqrnn",
    "PyTorch",
    "ratio",
    "seqrnn GFLOP/s (% peak)",
    "PyTorch GFLOP/s (% peak)",
    "others' CPU",
)


def table_rows(measurements: Iterable[Measurement]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for m in measurements:
        s, t = m.seqrnn_median, m.torch_median
        out.append(
            (
                m.row.name,
                str(m.threads),
                fmt_value(m.row, m.value(s)),
                fmt_value(m.row, m.value(t)),
                f"{m.ratio:.2f}x",
                fmt_flops(m, s),
                fmt_flops(m, t),
                f"{m.others_mean:.2f}{' !' if m.others_mean > BUSY_FLAG else ''}",
            )
        )
    return out


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:])
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines.extend("| " + " | ".join(r) + " |" for r in rows)
    return "\n".join(lines)


def memory_rows(memory: dict[str, Any]) -> list[tuple[str, ...]]:
    def mib(kib: int) -> str:
        return f"{kib / 1024:.0f} MiB"

    s, t = memory["seqrnn"], memory["torch"]
    return [
        (
            "peak RSS",
            mib(s["peak_rss_kib"]),
            mib(t["peak_rss_kib"]),
            f"{memory['ratio']:.2f}x",
        ),
        (
            "baseline RSS after imports",
            mib(s["baseline_rss_kib"]),
            mib(t["baseline_rss_kib"]),
            f"{t['baseline_rss_kib'] / s['baseline_rss_kib']:.2f}x",
        ),
        (
            "peak minus baseline",
            mib(s["peak_rss_kib"] - s["baseline_rss_kib"]),
            mib(t["peak_rss_kib"] - t["baseline_rss_kib"]),
            f"{(t['peak_rss_kib'] - t['baseline_rss_kib']) / max(s['peak_rss_kib'] - s['baseline_rss_kib'], 1):.2f}x",
        ),
    ]


def size_rows(size: dict[str, Any]) -> list[tuple[str, ...]]:
    def mib(n: int) -> str:
        return f"{n / 2**20:.1f} MiB"

    s, t = size["seqrnn"], size["torch"]
    rows: list[tuple[str, ...]] = [
        (
            "installed (pip packages)",
            mib(s["bytes"]),
            mib(t["bytes"]),
            f"{size['ratio']:.1f}x",
        )
    ]
    if "system_blas" in s:
        rows.append(
            (
                "seqrnn + system BLAS",
                mib(s["bytes_with_system_blas"]),
                mib(t["bytes"]),
                f"{t['bytes'] / s['bytes_with_system_blas']:.1f}x",
            )
        )
    return rows


def what_counted(size: dict[str, Any]) -> list[str]:
    lines = []
    for side in ("seqrnn", "torch"):
        parts = size[side]["distributions"]
        listed = ", ".join(
            f"{name} ({n / 2**20:.1f} MiB)"
            for name, n in sorted(parts.items(), key=lambda kv: -kv[1])
        )
        lines.append(f"{side}: {listed}")
    blas = size["seqrnn"].get("system_blas")
    if blas:
        lines.append(
            f"seqrnn also loads the system BLAS {blas['path']} "
            f"({blas['bytes'] / 2**20:.1f} MiB), counted only in 'seqrnn + system BLAS'"
        )
    return lines


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        out = subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=True
        ).stdout
        found = re.search(r"^Model name:\s*(.+)$", out, re.MULTILINE)
        if found:
            model = found.group(1).strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
    }


def write_results(
    out_dir: Path, report: dict[str, Any], markdown: str
) -> tuple[Path, Path]:
    """Writes latest.json and latest.md atomically (through .tmp files)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = (out_dir / "latest.json", out_dir / "latest.md")
    texts = (json.dumps(report, indent=2) + "\n", markdown)
    for path, text in zip(paths, texts):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return paths


def parity_summary(parity: Sequence[dict[str, Any]]) -> str:
    """One sentence on the parity checks of a report."""

    def worst(bf16: bool, grads: bool) -> float:
        return max(
            (
                c["error"]
                for c in parity
                if c["case"].split()[0].endswith("-bf16") == bf16
                and c["quantity"].startswith("grad") == grads
            ),
            default=0.0,
        )

    text = (
        f"Parity before timing (PyTorch's state_dict loaded into seqrnn): "
        f"{sum(c['ok'] for c in parity)}/{len(parity)} checks passed; largest "
        f"relative difference {worst(False, False):.1e} for outputs and losses "
        f"(tolerance {FORWARD_RTOL:.0e}), {worst(False, True):.1e} for "
        f"gradients (tolerance {GRADIENT_RTOL:.0e})."
    )
    if any(c["case"].split()[0].endswith("-bf16") for c in parity):
        text += (
            f" The bfloat16 rows (seqrnn bfloat16, PyTorch float32): "
            f"{worst(True, False):.1e} for outputs and losses, "
            f"{worst(True, True):.1e} for gradients (tolerance {BF16_RTOL:.0e})."
        )
    eval_mode = sorted(
        {c["case"].split()[0] for c in parity if c["case"].endswith("(eval mode)")}
    )
    if eval_mode:
        text += (
            f" Rows with dropout ({', '.join(eval_mode)}) were compared in "
            "evaluation mode, dropout off (random masks cannot be compared), and "
            "their training-mode gradients were checked to differ from the "
            f"evaluation-mode ones by more than {DROPOUT_ACTS:.0e} relative on "
            "both sides (dropout acts)."
        )
    return text


def peak_summary(peak: dict[str, Any]) -> str:
    """One sentence on the peak that "% peak" divides by."""
    nominal = peak["nominal_gflops_2_threads"]
    if peak["source"] != "measured":
        return (
            f"Peak: NOT MEASURED ({peak.get('error', 'unknown error')}); "
            f"'% peak' uses issue 4's nominal {nominal:.0f} GFLOP/s fp32 for the "
            f"2 cores ({peak['nominal_gflops_per_thread']:.0f} per thread)."
        )
    by_threads = {int(n): g for n, g in peak["gflops_by_threads"].items()}
    isa = next(iter(peak["runs"].values()))["isa"]
    parts = ", ".join(
        f"{g:.0f} GFLOP/s with {n} thread{'s' if n > 1 else ''}"
        for n, g in sorted(by_threads.items())
    )
    text = (
        f"Peak fp32, measured in this run ({isa} FMA loop, bench/peak_flops.c, "
        f"per second of CPU time): {parts}; '% peak' divides by the figure for "
        "the row's thread count."
    )
    if 2 in by_threads:
        text += (
            f" Issue 4's nominal {nominal:.0f} GFLOP/s for the 2 cores is "
            f"{nominal / by_threads[2]:.2f}x the measured 2-thread peak."
        )
    return text


def markdown_report(
    report: dict[str, Any],
    measurements: Sequence[Measurement],
    memory: dict[str, Any] | None,
    size: dict[str, Any] | None,
) -> str:
    v, mach = report["versions"], report["machine"]
    lines = [
        f"Measured {report['date']} on {mach['cpu']} ({mach['cores']} cores), "
        f"torch {v['torch']}, numpy {v['numpy']}, seqrnn {v['seqrnn']} "
        f"(BLAS: {v['seqrnn_blas']}); {report['repetitions']} alternating "
        f"repetitions per side, medians{' (--quick)' if report['quick'] else ''}. "
        f"{RATIO_NOTE}. {peak_summary(report['peak'])}",
        "",
    ]
    if measurements:
        lines += [md_table(HEADERS, table_rows(measurements)), ""]
        seen: list[Row] = []
        for m in measurements:
            if m.row not in seen:
                seen.append(m.row)
        lines += [f"- `{r.name}`: {r.describe()}" for r in seen]
        lines += [f"- {BUSY_NOTE}.", ""]
    lines += [parity_summary(report["parity"]), ""]
    if "bf16_loss" in report:
        lines += [bf16_loss.summary(report["bf16_loss"]), ""]
    if memory is not None:
        lines += [
            f"Memory of a training run ({memory['row']}, {memory['steps']} steps, "
            f"{memory['threads']} threads, each side in its own process; ratio = "
            "PyTorch / seqrnn):",
            "",
            md_table(("memory", "seqrnn", "PyTorch", "ratio"), memory_rows(memory)),
            "",
        ]
    if size is not None:
        lines += [
            "Installed size (each package and its installed dependencies; ratio = "
            "PyTorch / seqrnn):",
            "",
            md_table(("installed", "seqrnn", "PyTorch", "ratio"), size_rows(size)),
            "",
        ]
        lines += [f"- {line}" for line in what_counted(size)] + [""]
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    names = [r.name for r in all_rows()] + list(EXTRA_ROWS)
    epilog = [
        "rows: " + ", ".join(names),
        "Before the rows, the machine's fp32 peak (the '% peak' columns) is "
        "measured with bench/peak_flops.c, compiled with the system C compiler "
        "($CC, else cc) into bench/.build/; if that fails, issue 4's nominal "
        f"{2 * NOMINAL_PEAK_GFLOPS_PER_THREAD:.0f} GFLOP/s for 2 cores is used "
        "and the report says so.",
        "Rows with dropout are checked for parity in evaluation mode (dropout "
        "off) and timed with dropout on.",
    ]
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="\n\n".join(
            textwrap.fill(t, 79, break_on_hyphens=False, break_long_words=False)
            for t in epilog
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--quick", action="store_true", help="2 repetitions, fewer iterations"
    )
    p.add_argument(
        "--threads", default="2,1", help="comma-separated thread counts (default 2,1)"
    )
    p.add_argument(
        "--rows", default="", help="comma-separated row names (default: every row)"
    )
    p.add_argument(
        "--reps",
        type=int,
        default=None,
        help="repetitions per side (default 5, quick 2)",
    )
    p.add_argument(
        "--pause",
        type=float,
        default=0.1,
        help="untimed seconds before each repetition (default 0.1)",
    )
    p.add_argument(
        "--max-wait",
        type=float,
        default=None,
        help="seconds to wait, before each row and thread count, for other "
        "processes to leave the CPUs idle (default 20, quick 5; 0: do not wait)",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=None,
        help="measure a row and thread count again, up to this many times, when "
        f"other processes used more than {BUSY_FLAG} cores meanwhile (default 1, "
        "quick 0)",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="tinyshakespeare.txt for the bf16-loss check (default: "
        "../shared/data/ beside the project)",
    )
    p.add_argument(
        "--output-dir",
        type=Path,
        default=HERE / "results",
        help="where latest.json and latest.md go (default bench/results)",
    )
    args = p.parse_args(argv)
    try:
        args.thread_counts = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        p.error(f"--threads: expected integers like 2,1, got {args.threads!r}")
    if not args.thread_counts or min(args.thread_counts) < 1:
        p.error("--threads: expected positive integers")
    wanted = [n.strip() for n in args.rows.split(",") if n.strip()] or names
    unknown = [n for n in wanted if n not in names]
    if unknown:
        p.error(f"--rows: unknown {unknown}; rows are: {', '.join(names)}")
    args.row_names = wanted
    args.reps = args.reps or (2 if args.quick else 5)
    if args.retries is None:
        args.retries = 0 if args.quick else 1
    if args.max_wait is None:
        args.max_wait = 5.0 if args.quick else 20.0
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rows = [row_by_name(n) for n in args.row_names if n not in EXTRA_ROWS]
    versions = {
        "numpy": np.__version__,
        **side_torch.versions(),
        **side_seqrnn.versions(),
    }
    report: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
        "machine": machine(),
        "versions": versions,
        "quick": args.quick,
        "repetitions": args.reps,
        "pause_seconds": args.pause,
        "max_wait_seconds": args.max_wait,
        "retries": args.retries,
        "thread_counts": args.thread_counts,
        "ratio": RATIO_NOTE,
        "flop_model": "2*T*B*G*H*(I+H) per layer forward (G = 4 LSTM, 3 GRU, 1 RNN) "
        "+ 2*T*B*O*H for the head; x3 for forward+backward",
        "timed_calls": {
            "seqrnn": SEQRNN_PATHS,
            "torch": TORCH_PATHS,
            "by_row": {
                r.name: {side: timed_call(r, side) for side in ("seqrnn", "torch")}
                for r in rows
                if has_dropout(r)
            },
        },
    }
    print(
        f"seqrnn {versions['seqrnn']} ({versions['seqrnn_blas']}) vs torch "
        f"{versions['torch']}, numpy {versions['numpy']}; "
        f"{report['machine']['cpu']}, {report['machine']['cores']} cores"
    )
    print(
        "seqrnn is timed through its thin C extension (seqrnn._seqrnn: Trainer.step, "
        "Trainer.compute_gradients, Model.forward, State.step) with arrays prepared "
        "once; parity checks use the public seqrnn API.\n",
        flush=True,
    )
    started = time.perf_counter()
    print("== peak fp32 (bench/peak_flops.c) ==", flush=True)
    peak = peak_flops.measure([1, 2, *args.thread_counts])
    report["peak"] = peak.to_json()
    report["peak_gflops_per_thread"] = peak.per_thread()
    print(f"  {peak.note}\n", flush=True)
    set_threads(max(args.thread_counts))
    report["parity"] = [dataclasses.asdict(c) | {"ok": c.ok} for c in run_parity(rows)]

    measurements: list[Measurement] = []
    if rows:
        print(
            f"== timing: {args.reps} alternating repetitions per side, "
            f"threads {args.threads} ==",
            flush=True,
        )
    for row in rows:
        measurements += measure_row(
            row,
            args.thread_counts,
            args.reps,
            args.quick,
            args.pause,
            args.max_wait,
            args.retries,
            peak,
        )
    report["measurements"] = [m.to_json() for m in measurements]

    memory = size = None
    if "memory" in args.row_names:
        print("== peak memory (child processes) ==", flush=True)
        memory = measure_memory(max(args.thread_counts))
        report["memory"] = memory
    if "size" in args.row_names:
        print("== installed size ==", flush=True)
        size = measure_size()
        report["size"] = size
    if "bf16-loss" in args.row_names:
        print("== bfloat16 training loss against float32 (char-rnn) ==", flush=True)
        report["bf16_loss"] = bf16_loss.measure(args.data, 30 if args.quick else 150)
        print("  " + bf16_loss.summary(report["bf16_loss"]) + "\n", flush=True)
    report["seconds"] = time.perf_counter() - started

    print(f"\n{RATIO_NOTE}.")
    print(f"GFLOP/s from the FLOP model. {peak_summary(report['peak'])}\n")
    if measurements:
        print(text_table(HEADERS, table_rows(measurements)))
        print(f"{BUSY_NOTE}.")
    if memory is not None:
        print()
        print(text_table(("memory", "seqrnn", "PyTorch", "ratio"), memory_rows(memory)))
    if size is not None:
        print()
        print(text_table(("installed", "seqrnn", "PyTorch", "ratio"), size_rows(size)))
        for line in what_counted(size):
            print("  " + line)
    markdown = markdown_report(report, measurements, memory, size)
    paths = write_results(args.output_dir, report, markdown)
    print(f"\nwrote {paths[0]} and {paths[1]} ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
