"""Progress display of :meth:`seqrnn.Model.fit` (internal).

- ``verbose=0``: nothing.
- ``verbose=1`` on a terminal: a live bar per epoch, tqdm's if tqdm is
  installed, else a built-in one-line bar.
- ``verbose=1`` when stdout is not a terminal (a log file, a notebook
  capture, CI), and ``verbose=2``: one line per epoch.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from .callbacks import Callback, Logs


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def format_logs(logs: Logs) -> str:
    return " - ".join(
        f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, (int, float))
    )


def _seconds(duration: float) -> str:
    if duration < 60:
        return f"{duration:.1f}s"
    minutes, seconds = divmod(int(duration), 60)
    return f"{minutes}m{seconds:02d}s"


class ProgressBar(Callback):
    """Prints training progress to ``stream`` (sys.stdout at fit time)."""

    WIDTH = 24

    def __init__(self, verbose: int, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stdout
        terminal = is_terminal(self.stream)
        self.mode = "silent"
        if verbose == 1 and terminal:
            self.mode = "bar"
            try:
                import tqdm  # noqa: F401

                self.mode = "tqdm"
            except ImportError:
                pass
        elif verbose >= 1:
            self.mode = "line"
        self._tqdm: Any = None
        self._epoch = 0
        self._start = 0.0
        self._last_draw = 0.0
        self._sum_loss = 0.0
        self._sum_acc = 0.0
        self._count = 0
        self._batches = 0

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._sum_loss = self._sum_acc = 0.0
        self._count = self._batches = 0
        if self.mode == "tqdm":
            from tqdm import tqdm

            self._tqdm = tqdm(
                total=self.params.get("steps"),
                desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                unit="batch",
                file=self.stream,
                leave=True,
                dynamic_ncols=True,
            )

    def _running(self) -> dict[str, float]:
        out = {"loss": self._sum_loss / max(self._count, 1)}
        if self.params.get("accuracy"):
            out["accuracy"] = self._sum_acc / max(self._count, 1)
        return out

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.mode in ("silent", "line") or not logs:
            return
        size = int(logs.get("count") or logs.get("size") or 1)
        self._sum_loss += float(logs.get("loss", 0.0)) * size
        self._sum_acc += float(logs.get("accuracy", 0.0)) * size
        self._count += size
        self._batches = batch + 1
        if self.mode == "tqdm":
            self._tqdm.update(1)
            self._tqdm.set_postfix(
                {k: f"{v:.4f}" for k, v in self._running().items()}, refresh=False
            )
            return
        now = time.perf_counter()
        if now - self._last_draw >= 0.1 or self._batches == self.params.get("steps"):
            self._last_draw = now
            self._write("\r" + self._bar_text(now) + "\x1b[K")

    def _bar_text(self, now: float) -> str:
        steps = max(int(self.params.get("steps") or 1), 1)
        done = min(self._batches, steps)
        filled = self.WIDTH * done // steps
        arrow = ">" if filled < self.WIDTH else ""
        bar = "=" * filled + arrow + "." * (self.WIDTH - filled - len(arrow))
        return (
            f"Epoch {self._epoch + 1}/{self.params.get('epochs')} [{bar}] {done}/{steps}"
            f" - {_seconds(now - self._start)} - {format_logs(self._running())}"
        )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.mode == "silent":
            return
        elapsed = time.perf_counter() - self._start
        text = format_logs(logs or {})
        if self.mode == "tqdm":
            self._tqdm.set_postfix(
                {k: f"{v:.4f}" for k, v in (logs or {}).items()}, refresh=True
            )
            self._tqdm.close()
            self._tqdm = None
        elif self.mode == "bar":
            self._write(
                "\r"
                + f"Epoch {epoch + 1}/{self.params.get('epochs')} - {_seconds(elapsed)} - {text}"
                + "\x1b[K\n"
            )
        else:
            steps = self.params.get("steps")
            self._write(
                f"Epoch {epoch + 1}/{self.params.get('epochs')} - {steps} batches - {_seconds(elapsed)} - {text}\n"
            )

    def interrupted(self, message: str) -> None:
        """Ends an unfinished bar and prints ``message`` on its own line."""
        if self.mode == "silent":
            return
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        elif self.mode == "bar":
            self._write("\n")
        self._write(message + "\n")
