"""An independent float64 numpy implementation of the networks seqrnn runs,
written from PyTorch's documented equations (torch.nn.RNN / LSTM / GRU):

    RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)         (relu for rnn_relu)
    LSTM: i = s(W_ii x + b_ii + W_hi h + b_hi)   f = s(W_if x + b_if + W_hf h + b_hf)
          g = tanh(W_ig x + b_ig + W_hg h + b_hg) o = s(W_io x + b_io + W_ho h + b_ho)
          c' = f * c + i * g                      h' = o * tanh(c')
          (weight_ih = [W_ii; W_if; W_ig; W_io], gates stacked in that order)
    GRU:  r = s(W_ir x + b_ir + W_hr h + b_hr)    z = s(W_iz x + b_iz + W_hz h + b_hz)
          n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
          h' = (1 - z) * n + z * h                (gates r, z, n)

with PyTorch's packed-sequence semantics for variable lengths: a sequence's
steps past its length are not processed (its state is frozen at its last valid
step, its outputs there are zeros), and the backward direction of a
bidirectional layer starts at the sequence's own last valid step. Layer k+1
takes the concatenated [forward, backward] outputs of layer k. The head is a
dense layer on the top layer's outputs; in "last" mode it reads the forward
direction's last valid step and the backward direction's first step.

It deliberately loops over sequences and steps one at a time (no batching
tricks) so it shares no structure with the library's implementation; it is fed
the model's ``state_dict()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

GATES = {"rnn": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def cell_step(
    cell: str,
    w: dict[str, np.ndarray],
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray | None,
):
    """One step of one direction of one layer for one sequence (1-D vectors)."""
    W_ih, W_hh, b_ih, b_hh = w["W_ih"], w["W_hh"], w["b_ih"], w["b_hh"]
    H = h.shape[0]
    if cell in ("rnn", "rnn_relu"):
        pre = W_ih @ x + b_ih + W_hh @ h + b_hh
        return (np.tanh(pre) if cell == "rnn" else np.maximum(pre, 0.0)), None
    if cell == "lstm":
        gi = W_ih @ x + b_ih
        gh = W_hh @ h + b_hh
        i = sigmoid(gi[0:H] + gh[0:H])
        f = sigmoid(gi[H : 2 * H] + gh[H : 2 * H])
        g = np.tanh(gi[2 * H : 3 * H] + gh[2 * H : 3 * H])
        o = sigmoid(gi[3 * H : 4 * H] + gh[3 * H : 4 * H])
        c_new = f * c + i * g
        return o * np.tanh(c_new), c_new
    if cell == "gru":
        gi = W_ih @ x + b_ih
        gh = W_hh @ h + b_hh
        r = sigmoid(gi[0:H] + gh[0:H])
        z = sigmoid(gi[H : 2 * H] + gh[H : 2 * H])
        n = np.tanh(gi[2 * H : 3 * H] + r * gh[2 * H : 3 * H])
        return (1.0 - z) * n + z * h, None
    raise ValueError(cell)


def forward(
    sd: dict[str, Any],
    *,
    cell: str,
    num_layers: int,
    bidirectional: bool,
    output: str,
    x: np.ndarray,
    tokens: bool,
    lengths: np.ndarray | None = None,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
):
    """Returns (outputs, h_n, c_n) in float64; outputs [B, T, O] ("sequence")
    or [B, O] ("last"); h_n, c_n [L*D, B, H] (c_n None unless LSTM)."""
    sd = {k: np.asarray(v, dtype=np.float64) for k, v in sd.items()}
    B, T = x.shape[0], x.shape[1]
    if tokens:
        seq = sd["embedding.weight"][np.asarray(x)]  # [B, T, E]
    else:
        seq = np.asarray(x, dtype=np.float64)
    lens = np.full(B, T) if lengths is None else np.asarray(lengths)
    D = 2 if bidirectional else 1
    H = sd["rnn.weight_hh_l0"].shape[1]
    h_n = np.zeros((num_layers * D, B, H))
    c_n = np.zeros((num_layers * D, B, H)) if cell == "lstm" else None
    layer_in = seq
    for layer in range(num_layers):
        layer_out = np.zeros((B, T, D * H))
        for d in range(D):
            suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
            w = {
                "W_ih": sd["rnn.weight_ih" + suffix],
                "W_hh": sd["rnn.weight_hh" + suffix],
                "b_ih": sd["rnn.bias_ih" + suffix],
                "b_hh": sd["rnn.bias_hh" + suffix],
            }
            k = layer * D + d
            for b in range(B):
                h = (
                    np.zeros(H)
                    if h0 is None
                    else np.asarray(h0[k, b], dtype=np.float64)
                )
                c = None
                if cell == "lstm":
                    c = (
                        np.zeros(H)
                        if c0 is None
                        else np.asarray(c0[k, b], dtype=np.float64)
                    )
                L = int(lens[b])
                steps = range(L) if d == 0 else range(L - 1, -1, -1)
                for t in steps:
                    h, c_next = cell_step(cell, w, layer_in[b, t], h, c)
                    c = c_next
                    layer_out[b, t, d * H : (d + 1) * H] = h
                h_n[k, b] = h
                if c_n is not None:
                    c_n[k, b] = c
        layer_in = layer_out
    W, bias = sd["head.weight"], sd["head.bias"]
    O = W.shape[0]
    if output == "sequence":
        out = np.zeros((B, T, O))
        for b in range(B):
            for t in range(int(lens[b])):
                out[b, t] = W @ layer_in[b, t] + bias
    else:
        out = np.zeros((B, O))
        for b in range(B):
            last = int(lens[b]) - 1
            feat = layer_in[b, last].copy()
            if D == 2:
                feat[H:] = layer_in[b, 0, H:]
            out[b] = W @ feat + bias
    return out, h_n, c_n


def valid_positions(out_shape, output: str, lengths: np.ndarray | None, T: int):
    """Indices (b, t) of the positions a loss counts ("last": all b)."""
    B = out_shape[0]
    lens = np.full(B, T) if lengths is None else np.asarray(lengths)
    if output == "sequence":
        return [(b, t) for b in range(B) for t in range(int(lens[b]))]
    return [(b,) for b in range(B)]


def cross_entropy(logits: np.ndarray, targets: np.ndarray, output: str, lengths=None):
    """(mean loss, accuracy) of softmax cross-entropy over valid positions."""
    T = logits.shape[1] if output == "sequence" else 1
    losses, correct = [], []
    for pos in valid_positions(logits.shape, output, lengths, T):
        z = logits[pos]
        target = int(targets[pos])
        m = z.max()
        lse = m + np.log(np.exp(z - m).sum())
        losses.append(lse - z[target])
        correct.append(int(np.argmax(z)) == target)
    return float(np.mean(losses)), float(np.mean(correct))


def mse(values: np.ndarray, targets: np.ndarray, output: str, lengths=None):
    """Mean squared error over valid positions x output_size."""
    T = values.shape[1] if output == "sequence" else 1
    errors = []
    for pos in valid_positions(values.shape, output, lengths, T):
        errors.extend(((values[pos] - targets[pos]) ** 2).tolist())
    return float(np.mean(errors))
