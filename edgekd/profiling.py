"""Parameters and multiply-accumulates (MACs) per model and input shape.

Convention: MACs of convolutions, linear layers, matrix products and recurrent layers for one
forward pass of one window (batch 1). Normalisation, activations, pooling and other elementwise
work are not counted. Convolution/linear/matmul counts come from ``torch.utils.flop_counter``
(which reports 2 FLOPs per MAC). Recurrent layers are counted analytically, because the counter
sees ~0 for the fused LSTM op and decomposes GRU differently per backend: per time step and
direction, LSTM = 4·(input·hidden + hidden·hidden), GRU = 3·(input·hidden + hidden·hidden)
(projection sizes, ``proj_size``, included for LSTM).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

MAC_CONVENTION = ("MACs per window at batch 1: conv, linear, matmul (torch.utils.flop_counter, "
                  "FLOPs/2) + analytic LSTM/GRU; elementwise ops, norms, activations not counted")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def rnn_macs(rnn: nn.RNNBase, n_steps: int) -> int:
    """Analytic MACs of an LSTM/GRU/RNN module over ``n_steps`` time steps (batch 1)."""
    gates = {"LSTM": 4, "GRU": 3}.get(rnn.mode, 1)
    hidden = rnn.hidden_size
    out = rnn.proj_size or hidden
    dirs = 2 if rnn.bidirectional else 1
    total = 0
    for layer in range(rnn.num_layers):
        n_in = rnn.input_size if layer == 0 else out * dirs
        per_step = gates * (n_in * hidden + out * hidden)
        if rnn.proj_size:
            per_step += hidden * rnn.proj_size
        total += per_step * n_steps * dirs
    return total


def _flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


@torch.no_grad()
def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """MACs of ``model`` for one input of ``input_shape`` (without the batch dimension)."""
    was_training = model.training
    model.eval()
    x = torch.zeros(1, *input_shape)
    captured: list[tuple[nn.RNNBase, torch.Tensor]] = []
    hooks = [m.register_forward_hook(lambda mod, inp, _out: captured.append((mod, inp[0])))
             for m in model.modules() if isinstance(m, nn.RNNBase)]
    # the fused transformer fast path (eval mode) is invisible to the counter: count the
    # unfused ops, which do the same arithmetic
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        total = _flops(lambda: model(x))
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        for h in hooks:
            h.remove()
    counted_rnn = sum(_flops(lambda m=m, i=i: m(i)) for m, i in captured)
    analytic = sum(rnn_macs(m, i.shape[1] if m.batch_first else i.shape[0]) for m, i in captured)
    model.train(was_training)
    return (total - counted_rnn) // 2 + analytic
