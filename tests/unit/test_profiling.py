"""MAC counts against counts done by hand."""

from torch import nn

from edgekd.profiling import count_macs, count_parameters


def test_conv_and_linear_hand_count():
    # Conv1d 8→16, k=5, 'same' padding over 52 samples: 16·8·5 MACs per output sample
    model = nn.Sequential(nn.Conv1d(8, 16, 5, padding=2), nn.Flatten(), nn.Linear(16 * 52, 7))
    assert count_macs(model, (8, 52)) == 16 * 8 * 5 * 52 + 16 * 52 * 7


class _Rnn(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x.transpose(1, 2))[0]


def test_lstm_hand_count():
    # per step: 4 gates × (input·hidden + hidden·hidden); layer 2 takes hidden as input
    model = _Rnn(nn.LSTM(8, 16, num_layers=2, batch_first=True))
    per_step = 4 * (8 * 16 + 16 * 16) + 4 * (16 * 16 + 16 * 16)
    assert count_macs(model, (8, 52)) == per_step * 52


def test_gru_hand_count_bidirectional():
    model = _Rnn(nn.GRU(8, 16, batch_first=True, bidirectional=True))
    assert count_macs(model, (8, 30)) == 2 * 3 * (8 * 16 + 16 * 16) * 30


def test_rnn_inside_a_model_with_a_head():
    model = _Rnn(nn.LSTM(4, 8, batch_first=True))
    head = nn.Sequential(model, nn.Flatten(), nn.Linear(8 * 10, 3))
    assert count_macs(head, (4, 10)) == 4 * (4 * 8 + 8 * 8) * 10 + 8 * 10 * 3
    assert count_parameters(head) == sum(p.numel() for p in head.parameters())
    assert head.training  # the count does not leave the model in eval mode
