"""The PyTorch side of the benchmark: the reference models and their timed loops.

The model is ``nn.Embedding`` (token rows) + ``nn.LSTM``/``nn.GRU``/``nn.RNN``
(``batch_first=True``) + ``nn.Linear``, in a module whose attributes are named
``embedding``, ``rnn`` and ``head``, so its ``state_dict`` carries exactly
seqrnn's tensor names and loads into a ``seqrnn.Model`` unchanged.

Each ``*_runner`` function prepares everything once and returns a closure
``run(iters)`` that performs ``iters`` timed iterations and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from specs import Batch, Row
from torch import nn

Runner = Callable[[int], None]


def _recurrent(row: Row) -> nn.Module:
    """``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (tanh) for the row."""
    args = (row.input_size, row.hidden, row.layers)
    if row.cell == "lstm":
        return nn.LSTM(*args, batch_first=True)
    if row.cell == "gru":
        return nn.GRU(*args, batch_first=True)
    return nn.RNN(*args, nonlinearity="tanh", batch_first=True)


class Net(nn.Module):
    """Embedding (token rows) -> recurrent stack -> dense head.

    ``forward(x, state)`` returns ``(outputs, state)``: logits or values at
    every step ``[B, T, O]``, or ``[B, O]`` from the last step when ``last``.
    """

    def __init__(self, row: Row) -> None:
        super().__init__()
        self.tokens = row.vocab is not None
        self.last = row.last
        if row.vocab is not None:
            self.embedding = nn.Embedding(row.vocab, row.input_size)
        self.rnn = _recurrent(row)
        self.head = nn.Linear(row.hidden, row.output_size)

    def forward(
        self, x: torch.Tensor, state: object = None
    ) -> tuple[torch.Tensor, object]:
        if self.tokens:
            x = self.embedding(x)
        y, state = self.rnn(x, state)
        if self.last:
            y = y[:, -1]
        return self.head(y), state


def set_threads(threads: int) -> None:
    """PyTorch's intra-op thread count."""
    torch.set_num_threads(threads)


def build(row: Row, seed: int) -> Net:
    """The row's PyTorch model with PyTorch's default initialisation."""
    torch.manual_seed(seed)
    return Net(row)


def state_dict(net: Net) -> dict[str, np.ndarray]:
    """The weights as float32 numpy arrays under the module's names."""
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


def _inputs(row: Row, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(batch.x.astype(np.int64) if row.vocab else batch.x)
    y = torch.from_numpy(batch.y.astype(np.int64) if not row.last else batch.y)
    return x, y


def _loss(row: Row, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if row.last:
        return F.mse_loss(out, y)
    return F.cross_entropy(out.reshape(-1, row.output_size), y.reshape(-1))


def forward_numpy(net: Net, row: Row, batch: Batch) -> np.ndarray:
    """The model's outputs on ``batch`` (no autograd)."""
    x, _ = _inputs(row, batch)
    with torch.inference_mode():
        out, _ = net(x)
    return np.array(out.numpy(), copy=True)


def gradients(net: Net, row: Row, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
    """Mean loss on ``batch`` and the gradient of every parameter, by name."""
    x, y = _inputs(row, batch)
    net.zero_grad(set_to_none=True)
    out, _ = net(x)
    loss = _loss(row, out, y)
    loss.backward()
    grads = {
        name: p.grad.detach().numpy().copy()
        for name, p in net.named_parameters()
        if p.grad is not None
    }
    net.zero_grad(set_to_none=True)
    return loss.item(), grads


def stream_numpy(net: Net, tokens: np.ndarray) -> np.ndarray:
    """Logits ``[steps, O]`` of feeding ``tokens`` one at a time (batch 1)."""
    state: object = None
    outs = []
    with torch.inference_mode():
        for t in tokens:
            out, state = net(torch.tensor([[int(t)]]), state)
            outs.append(out[0, 0].numpy().copy())
    return np.stack(outs)


def train_runner(
    net: Net, row: Row, batch: Batch, *, lr: float, clip_norm: float
) -> Runner:
    """char-rnn training steps: zero_grad, forward, mean cross-entropy,
    backward, ``clip_grad_norm_``, ``Adam.step``."""
    x, y = _inputs(row, batch)
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=lr)

    def run(iters: int) -> None:
        for _ in range(iters):
            opt.zero_grad()
            out, _ = net(x)
            loss = _loss(row, out, y)
            loss.backward()
            nn.utils.clip_grad_norm_(params, clip_norm)
            opt.step()

    return run


def deepbench_runner(net: Net, row: Row, batch: Batch) -> Runner:
    """Forward and backward (parameter gradients), no optimizer."""
    x, y = _inputs(row, batch)

    def run(iters: int) -> None:
        for _ in range(iters):
            net.zero_grad(set_to_none=True)
            out, _ = net(x)
            _loss(row, out, y).backward()

    return run


def infer_runner(net: Net, row: Row, batch: Batch) -> Runner:
    """Full-sequence forward passes under ``torch.inference_mode()``."""
    x, _ = _inputs(row, batch)

    def run(iters: int) -> None:
        with torch.inference_mode():
            for _ in range(iters):
                net(x)

    return run


class _Stream:
    """A batch-1 stream of a module: its state and the next token's index."""

    def __init__(self, net: Net, tokens: np.ndarray) -> None:
        self.net = net
        self.inputs = [torch.tensor([[int(t)]]) for t in tokens]
        self.state: object = None
        self.i = 0

    def run(self, iters: int) -> None:
        net, inputs, state, i, n = (
            self.net,
            self.inputs,
            self.state,
            self.i,
            len(self.inputs),
        )
        with torch.inference_mode():
            for _ in range(iters):
                _, state = net(inputs[i], state)
                i = i + 1 if i + 1 < n else 0
        self.state, self.i = state, i


def stream_runner(net: Net, row: Row, tokens: np.ndarray) -> Runner:
    """Batch-1 steps: the module called on a ``[1, 1]`` token carrying its
    state, under ``torch.inference_mode()``; tokens cycle through ``tokens``."""
    del row
    return _Stream(net, tokens).run


def versions() -> dict[str, str]:
    """torch's version and its CPU configuration."""
    return {
        "torch": torch.__version__,
        "torch_mkldnn": str(torch.backends.mkldnn.is_available()),
        "torch_mkl": str(torch.backends.mkl.is_available()),
        "torch_cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
    }
