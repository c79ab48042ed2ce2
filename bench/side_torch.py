"""The PyTorch side of the benchmark: the reference models and their timed loops.

The model is ``nn.Embedding`` (token rows) + ``nn.LSTM``/``nn.GRU``/``nn.RNN``
(``batch_first=True``) + ``nn.Linear``, in a module whose attributes are named
``embedding``, ``rnn`` and ``head``, so its ``state_dict`` carries exactly
seqrnn's tensor names and loads into a ``seqrnn.Model`` unchanged. Dropout
between the layers is ``nn.LSTM(dropout=...)``. PyTorch has no variational
recurrent dropout, so rows with it use :class:`VariationalLSTM`, the usual
hand-written loop (tensors named as ``nn.LSTM``'s).

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


def _lstm_layer(
    xw: torch.Tensor,
    w_hh_t: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    mask: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One LSTM layer over time: ``xw`` ``[T, B, 4H]`` is the input projection
    of every step with both biases (one GEMM before the loop); each step only
    adds ``(h * mask) @ W_hh^T`` and applies the gates (PyTorch's order i, f,
    g, o). Returns the outputs ``[T, B, H]`` and the final ``h``, ``c``.

    Plain eager code: ``torch.jit.script`` of this function (deprecated in
    torch 2.15) measured about 5% slower here, for training at 1 thread."""
    outs: list[torch.Tensor] = []
    # unbind, not xw[t]: indexing would make backward zero-fill and add a
    # [T, B, 4H] gradient at every step.
    for xw_t in xw.unbind(0):
        hm = h * mask if mask is not None else h
        gates = torch.addmm(xw_t, hm, w_hh_t)
        i, f, g, o = gates.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs), h, c


class VariationalLSTM(nn.Module):
    """A stacked LSTM (``batch_first``) with variational recurrent dropout:
    in training, each layer draws one mask ``[B, H]`` per batch (Bernoulli
    ``1 - p``, scaled by ``1 / (1 - p)``) and multiplies the previous hidden
    state by it before every step's recurrent product (Gal and Ghahramani;
    Keras's ``recurrent_dropout``); the state carried on is not masked. In
    evaluation it is ``nn.LSTM``. PyTorch has no built-in for this, so this is
    the loop a PyTorch user writes, made as fast as is fair: the input
    projection of all steps is one GEMM per layer, and each step of the time
    loop is one ``addmm`` and the gates. Its parameters are an ``nn.LSTM``'s
    (same names, same initialisation)."""

    def __init__(
        self, input_size: int, hidden: int, layers: int, recurrent_dropout: float
    ) -> None:
        super().__init__()
        self.hidden = hidden
        self.layers = layers
        self.recurrent_dropout = recurrent_dropout
        reference = nn.LSTM(input_size, hidden, layers)
        for name, param in reference.named_parameters():
            self.register_parameter(name, param)

    def forward(
        self, x: torch.Tensor, state: object = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, H, p = x.shape[0], self.hidden, self.recurrent_dropout
        if state is None:
            zeros = x.new_zeros(self.layers, B, H)
            h0, c0 = zeros, zeros
        else:
            h0, c0 = state  # type: ignore[misc]
        y = x.transpose(0, 1)  # time-major [T, B, I]
        hs, cs = [], []
        for layer in range(self.layers):
            w_ih = getattr(self, f"weight_ih_l{layer}")
            w_hh = getattr(self, f"weight_hh_l{layer}")
            bias = getattr(self, f"bias_ih_l{layer}") + getattr(
                self, f"bias_hh_l{layer}"
            )
            xw = F.linear(y, w_ih, bias)
            mask = None
            if self.training and p > 0:
                mask = x.new_empty(B, H).bernoulli_(1 - p).div_(1 - p)
            y, h, c = _lstm_layer(xw, w_hh.t(), h0[layer], c0[layer], mask)
            hs.append(h)
            cs.append(c)
        return y.transpose(0, 1), (torch.stack(hs), torch.stack(cs))


def _recurrent(row: Row) -> nn.Module:
    """``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (tanh) for the row, with dropout
    between the layers when the row has it; :class:`VariationalLSTM` for
    recurrent dropout."""
    if row.recurrent_dropout:
        if row.cell != "lstm" or row.dropout:
            raise ValueError(f"{row.name}: recurrent dropout is only for LSTM rows")
        return VariationalLSTM(
            row.input_size, row.hidden, row.layers, row.recurrent_dropout
        )
    args = (row.input_size, row.hidden, row.layers)
    kwargs = {"batch_first": True, "dropout": row.dropout}
    if row.cell == "lstm":
        return nn.LSTM(*args, **kwargs)
    if row.cell == "gru":
        return nn.GRU(*args, **kwargs)
    return nn.RNN(*args, nonlinearity="tanh", **kwargs)


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
    net.train()  # dropout on, when the row has it
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
