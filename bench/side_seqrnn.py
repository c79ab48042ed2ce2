"""The seqrnn side of the benchmark.

Parity checks use the public API (``Model.predict``,
``Model.compute_gradients``, ``Model.stream``). The timed loops call the thin
C extension ``seqrnn._seqrnn`` directly (``Trainer.step``,
``Trainer.compute_gradients``, ``Model.forward``, ``State.step``) with
arrays prepared once, so they measure the library rather than the Python
package's argument checking (each call is one C API call, GIL released).

Each ``*_runner`` function prepares everything once and returns a closure
``run(iters)`` that performs ``iters`` timed iterations and nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from specs import Batch, Row

import seqrnn
from seqrnn import _seqrnn

Runner = Callable[[int], None]

#: The extension's optimizer code for Adam (see seqrnn.model._OPTIMIZERS).
_ADAM = 1


def set_threads(threads: int) -> None:
    """seqrnn's thread count (BLAS threads and its own parallel work)."""
    seqrnn.set_num_threads(threads)


def build(row: Row, weights: Mapping[str, np.ndarray] | None = None) -> seqrnn.Model:
    """The row's seqrnn model, with ``weights`` (PyTorch names) loaded
    strictly when given, else seqrnn's own initialisation. The row's dropout
    rates act in training steps (``Trainer.step``, ``compute_gradients``)
    only; ``predict`` and streaming never drop."""
    model = seqrnn.Model(
        row.cell,
        vocab_size=row.vocab,
        input_size=row.input_size,
        hidden_size=row.hidden,
        num_layers=row.layers,
        output_size=row.output_size,
        output="last" if row.last else "sequence",
        loss="mse" if row.last else "cross_entropy",
        dropout=row.dropout,
        recurrent_dropout=row.recurrent_dropout,
        precision=row.precision,
    )
    if weights is not None:
        model.load_state_dict(weights)
    return model


def forward_numpy(model: seqrnn.Model, batch: Batch) -> np.ndarray:
    """The model's outputs on ``batch`` (``Model.predict``)."""
    out = model.predict(batch.x, batch_size=batch.x.shape[0])
    assert isinstance(out, np.ndarray)
    return out


def gradients(model: seqrnn.Model, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
    """Mean loss on ``batch`` and every tensor's gradient
    (``Model.compute_gradients``)."""
    loss, grads = model.compute_gradients(batch.x, batch.y)
    return loss, dict(grads)


def stream_numpy(model: seqrnn.Model, tokens: np.ndarray) -> np.ndarray:
    """Logits ``[steps, O]`` of feeding ``tokens`` one at a time (``Stream``)."""
    with model.stream(batch_size=1) as stream:
        return np.stack([stream.step(int(t)) for t in tokens])


def _batch_kwargs(row: Row, batch: Batch) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"batch_size": int(batch.x.shape[0]), "seq_len": row.time}
    kwargs["tokens" if row.vocab else "features"] = np.ascontiguousarray(batch.x)
    return kwargs


def _target_kwargs(row: Row, batch: Batch) -> dict[str, Any]:
    key = "target_values" if row.last else "target_classes"
    return {key: np.ascontiguousarray(batch.y)}


def _trainer(model: seqrnn.Model, *, lr: float, clip_norm: float) -> Any:
    return _seqrnn.Trainer(
        model._model(),
        optimizer=_ADAM,
        learning_rate=lr,
        momentum=0.0,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        clip_norm=clip_norm,
    )


def train_runner(
    model: seqrnn.Model, row: Row, batch: Batch, *, lr: float, clip_norm: float
) -> Runner:
    """``_seqrnn.Trainer.step``: forward, mean cross-entropy, backward, clip,
    Adam (as ``torch.optim.Adam``: betas 0.9/0.999, eps 1e-8)."""
    trainer = _trainer(model, lr=lr, clip_norm=clip_norm)
    kwargs = _batch_kwargs(row, batch) | _target_kwargs(row, batch)
    step = trainer.step

    def run(iters: int) -> None:
        for _ in range(iters):
            step(**kwargs)

    return run


def deepbench_runner(model: seqrnn.Model, row: Row, batch: Batch) -> Runner:
    """``_seqrnn.Trainer.compute_gradients``: forward and backward, no update."""
    trainer = _trainer(model, lr=1e-3, clip_norm=0.0)
    kwargs = _batch_kwargs(row, batch) | _target_kwargs(row, batch)
    compute = trainer.compute_gradients

    def run(iters: int) -> None:
        for _ in range(iters):
            compute(**kwargs)

    return run


def infer_runner(model: seqrnn.Model, row: Row, batch: Batch) -> Runner:
    """``_seqrnn.Model.forward`` into a preallocated output buffer."""
    handle = model._model()
    B = int(batch.x.shape[0])
    out = np.empty(
        (B, row.output_size) if row.last else (B, row.time, row.output_size),
        dtype=np.float32,
    )
    kwargs = _batch_kwargs(row, batch)
    forward = handle.forward

    def run(iters: int) -> None:
        for _ in range(iters):
            forward(out, **kwargs)

    return run


class _Stream:
    """A batch-1 ``_seqrnn.State`` and the next token's index."""

    def __init__(self, model: seqrnn.Model, tokens: np.ndarray) -> None:
        self.state = _seqrnn.State(model._model(), 1)
        self.inputs = [np.array([t], dtype=np.int32) for t in tokens]
        self.out = np.empty((1, model.output_size), dtype=np.float32)
        self.i = 0

    def run(self, iters: int) -> None:
        step, out, inputs, i, n = (
            self.state.step,
            self.out,
            self.inputs,
            self.i,
            len(self.inputs),
        )
        for _ in range(iters):
            step(out, tokens=inputs[i])
            i = i + 1 if i + 1 < n else 0
        self.i = i


def stream_runner(model: seqrnn.Model, row: Row, tokens: np.ndarray) -> Runner:
    """Batch-1 steps with ``_seqrnn.State.step`` (head included); tokens
    cycle through ``tokens``."""
    del row
    return _Stream(model, tokens).run


def versions() -> dict[str, str]:
    """seqrnn's version, its BLAS, where the package is installed and a digest
    of the library it loads (to tell builds apart)."""
    package = Path(seqrnn.__file__).parent
    library = package / "libseqrnn.so.0"
    digest = (
        hashlib.sha256(library.read_bytes()).hexdigest()[:12]
        if library.is_file()
        else "unknown"
    )
    return {
        "seqrnn_library_sha256": digest,
        "seqrnn": seqrnn.__version__,
        "seqrnn_blas": seqrnn.blas_info(),
        "seqrnn_threads_default": str(seqrnn.get_num_threads()),
        "seqrnn_package": str(package),
    }
