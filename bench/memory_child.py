"""Peak resident memory of a short training run of one side, in its own process.

Run by ``run.py`` as ``python memory_child.py {seqrnn,torch} THREADS STEPS``:
imports only that side's libraries, records the resident set after the imports
(the baseline), trains the memory row (``specs.MEMORY_ROW``) for ``STEPS``
steps, and prints one JSON object with both numbers, in KiB, read from
``/proc/self/status`` (``VmRSS`` and the high-water mark ``VmHWM``).
"""

from __future__ import annotations

import json
import sys
import time


def status_kib(field: str) -> int:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM, ...), in KiB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def main(argv: list[str]) -> int:
    """Runs the child; see the module's documentation."""
    if len(argv) != 4 or argv[1] not in ("seqrnn", "torch"):
        print("usage: memory_child.py {seqrnn,torch} THREADS STEPS", file=sys.stderr)
        return 2
    side, threads, steps = argv[1], int(argv[2]), int(argv[3])
    from specs import MEMORY_ROW, make_batch, row_by_name

    row = row_by_name(MEMORY_ROW)
    if side == "torch":
        import side_torch as impl

        impl.versions()
        baseline = status_kib("VmRSS")
        impl.set_threads(threads)
        net = impl.build(row, 0)
        batch = make_batch(row)
        run = impl.train_runner(net, row, batch, lr=2e-3, clip_norm=5.0)
    else:
        import side_seqrnn as impl_s

        impl_s.versions()  # loads the BLAS, as importing torch loads MKL
        baseline = status_kib("VmRSS")
        impl_s.set_threads(threads)
        model = impl_s.build(row)
        batch = make_batch(row)
        run = impl_s.train_runner(model, row, batch, lr=2e-3, clip_norm=5.0)
    start = time.perf_counter()
    run(steps)
    elapsed = time.perf_counter() - start
    result = {
        "side": side,
        "row": row.name,
        "threads": threads,
        "steps": steps,
        "baseline_rss_kib": baseline,
        "peak_rss_kib": status_kib("VmHWM"),
        "final_rss_kib": status_kib("VmRSS"),
        "seconds": elapsed,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
