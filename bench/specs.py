"""The benchmark's rows, their data and the FLOP model (no torch, no seqrnn here).

Every row is one configuration run by both seqrnn and PyTorch. The FLOP model
is issue 4's: a recurrent layer (one direction) costs ``2*T*B*G*H*(I+H)``
floating-point operations forward (G gates: 4 for an LSTM, 3 for a GRU, 1 for
a plain RNN; I its input width, H its hidden size), the dense head
``2*T*B*O*D*H`` (O outputs, D directions), and training (forward, backward)
three times the forward.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: Issue 4's nominal fp32 peak of one core of this machine kind, GFLOP/s (its
#: "about 540 GFLOP/s" for the 2 cores). The benchmark measures the peak
#: instead (``peak.py``) and falls back to this figure only when it cannot.
NOMINAL_PEAK_GFLOPS_PER_THREAD = 270.0

#: Gates per cell: the G of the FLOP model.
GATES = {"lstm": 4, "gru": 3, "rnn": 1}

#: char-rnn's vocabulary (tiny Shakespeare has 65 distinct characters).
VOCAB = 65

#: Row kinds. "train" and "infer" report tokens/s (higher is better),
#: "deepbench" milliseconds per iteration and "stream" microseconds per step
#: (lower is better).
KINDS = ("train", "deepbench", "infer", "stream")


@dataclasses.dataclass(frozen=True)
class Row:
    """One benchmark configuration.

    Attributes:
        name: the row's identifier (``--rows`` takes these).
        kind: one of :data:`KINDS`.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"`` (tanh).
        hidden: H, units per layer.
        layers: stacked recurrent layers (one direction).
        batch: B, sequences per iteration.
        time: T, time steps per sequence (1 for ``stream``: one step per call).
        input_size: I of the first layer (the embedding width of token models).
        vocab: vocabulary of token models (ids in, embedding), None for
            float feature inputs.
        output_size: O, the head's outputs.
        last: the head reads only the last step (``output="last"``).
        iters: iterations (optimizer steps, passes or stream steps) per timed
            repetition.
        quick_iters: the same with ``--quick``.
        warmup: untimed iterations of each side before the repetitions.
        dropout: dropout on the outputs of every recurrent layer but the last
            (PyTorch's ``nn.LSTM(dropout=...)``), training only.
        recurrent_dropout: variational dropout on the previous hidden state
            entering the recurrent product (one mask per sequence and layer,
            reused at every step), training only.
        precision: seqrnn's ``Model.precision``: ``"float32"``, or the opt-in
            ``"bfloat16"`` (AMX); PyTorch runs float32 either way.
    """

    name: str
    kind: str
    cell: str
    hidden: int
    layers: int
    batch: int
    time: int
    input_size: int
    vocab: int | None
    output_size: int
    last: bool
    iters: int
    quick_iters: int
    warmup: int
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    precision: str = "float32"

    @property
    def tokens_per_iter(self) -> int:
        """Sequence positions processed by one iteration: B*T."""
        return self.batch * self.time

    @property
    def higher_is_better(self) -> bool:
        """Throughput rows (tokens/s) versus latency rows (time per iteration)."""
        return self.kind in ("train", "infer")

    def forward_flops(self) -> float:
        """FLOPs of one forward iteration under the model of this module
        (dropout is not counted: the same as without it)."""
        G, H, B, T = GATES[self.cell], self.hidden, self.batch, self.time
        flops = 0.0
        for layer in range(self.layers):
            width = self.input_size if layer == 0 else H
            flops += 2.0 * T * B * G * H * (width + H)
        head_steps = 1 if self.last else T
        flops += 2.0 * head_steps * B * self.output_size * H
        return flops

    def flops(self) -> float:
        """FLOPs of one timed iteration: the forward, times 3 when it also
        backpropagates (``train`` and ``deepbench``)."""
        factor = 3.0 if self.kind in ("train", "deepbench") else 1.0
        return factor * self.forward_flops()

    def describe(self) -> str:
        """A one-line human description of the configuration."""
        what = {
            "train": "training (fwd+bwd+clip+Adam)",
            "deepbench": "forward+backward (no optimizer)",
            "infer": "full-sequence inference",
            "stream": "streaming step (with head)",
        }[self.kind]
        inputs = (
            f"tokens (vocab {self.vocab}, embedding {self.input_size})"
            if self.vocab
            else f"features ({self.input_size})"
        )
        steps = "one step per call" if self.kind == "stream" else f"T={self.time}"
        drops = []
        if self.dropout:
            drops.append(f"dropout {self.dropout:g} between the layers")
        if self.recurrent_dropout:
            drops.append(
                f"recurrent dropout {self.recurrent_dropout:g} on h "
                "(one mask per sequence)"
            )
        if self.precision != "float32":
            drops.append(f"seqrnn in {self.precision} (AMX), PyTorch in float32")
        return (
            f"{self.cell.upper()} {self.layers}x{self.hidden}, B={self.batch}, "
            f"{steps}, {inputs}, head {self.output_size}"
            f"{' on the last step' if self.last else ''}"
            f"{', ' + ', '.join(drops) if drops else ''}: {what}"
        )


def _char_rnn(
    kind: str, cell: str, hidden: int, batch: int, time: int, iters: int, quick: int
) -> Row:
    return Row(
        name=f"{kind}-{cell}-2x{hidden}",
        kind=kind,
        cell=cell,
        hidden=hidden,
        layers=2,
        batch=batch,
        time=time,
        input_size=hidden,
        vocab=VOCAB,
        output_size=VOCAB,
        last=False,
        iters=iters,
        quick_iters=quick,
        warmup=1 if hidden >= 512 else 3,
    )


def all_rows() -> list[Row]:
    """Every row of issues 4 and 5, in the order of the table."""
    rows: list[Row] = []
    for cell in ("lstm", "gru", "rnn"):
        rows.append(_char_rnn("train", cell, 128, 50, 50, 20, 5))
    for cell in ("lstm", "gru", "rnn"):
        rows.append(_char_rnn("train", cell, 512, 64, 100, 2, 1))
    # Issue 5: the LSTM 2x512 training row with dropout on.
    plain = _char_rnn("train", "lstm", 512, 64, 100, 2, 1)
    rows.append(dataclasses.replace(plain, name=f"{plain.name}-dropout", dropout=0.5))
    rows.append(
        dataclasses.replace(
            plain, name=f"{plain.name}-recurrent-dropout", recurrent_dropout=0.25
        )
    )
    rows.append(
        Row(
            name="deepbench-lstm-512",
            kind="deepbench",
            cell="lstm",
            hidden=512,
            layers=1,
            batch=64,
            time=25,
            input_size=512,
            vocab=None,
            output_size=1,
            last=True,
            iters=10,
            quick_iters=3,
            warmup=2,
        )
    )
    for cell in ("lstm", "gru", "rnn"):
        rows.append(
            _char_rnn("infer", cell, 512, 64, 100, 4 if cell != "rnn" else 6, 1)
        )
    rows.append(
        Row(
            name="stream-lstm-2x512",
            kind="stream",
            cell="lstm",
            hidden=512,
            layers=2,
            batch=1,
            time=1,
            input_size=512,
            vocab=VOCAB,
            output_size=VOCAB,
            last=False,
            iters=300,
            quick_iters=100,
            warmup=30,
        )
    )
    # The opt-in bfloat16 precision (seqrnn only; PyTorch stays float32) on
    # every training, DeepBench and inference row. Streaming stays float32:
    # one step per call gains nothing from it.
    for row in list(rows):
        if row.kind != "stream":
            rows.append(
                dataclasses.replace(row, name=f"{row.name}-bf16", precision="bfloat16")
            )
    return rows


#: The training row whose peak memory is measured (a few steps, each side in
#: its own child process).
MEMORY_ROW = "train-lstm-2x512"
MEMORY_STEPS = 3


def row_by_name(name: str) -> Row:
    """The row called ``name``; raises KeyError listing the valid names."""
    for row in all_rows():
        if row.name == name:
            return row
    names = ", ".join(r.name for r in all_rows())
    raise KeyError(f"unknown row {name!r}; the rows are: {names}")


@dataclasses.dataclass(frozen=True)
class Batch:
    """One batch of a row, as numpy arrays both sides convert.

    ``x`` is int32 token ids ``[B, T]`` (token rows) or float32 features
    ``[B, T, I]``; ``y`` is int32 class ids ``[B, T]`` (cross-entropy on every
    step) or float32 values ``[B, O]`` (MSE on the last step).
    """

    x: np.ndarray
    y: np.ndarray


def make_batch(row: Row, seed: int = 0, *, batch: int | None = None) -> Batch:
    """Random data for ``row``: uniform token ids (timing does not depend on
    the values) or standard normal features, with targets to match.
    ``batch`` overrides the row's batch size."""
    rng = np.random.default_rng(seed)
    B = row.batch if batch is None else batch
    T = row.time
    x: np.ndarray
    y: np.ndarray
    if row.vocab:
        x = rng.integers(0, row.vocab, size=(B, T), dtype=np.int32)
    else:
        x = rng.standard_normal((B, T, row.input_size), dtype=np.float32)
    if row.last:
        y = rng.standard_normal((B, row.output_size), dtype=np.float32)
    else:
        y = rng.integers(0, row.output_size, size=(B, T), dtype=np.int32)
    return Batch(x=np.ascontiguousarray(x), y=np.ascontiguousarray(y))
