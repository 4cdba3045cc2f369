import numpy as np

from edgekd.signal import StreamingWindower, WindowSpec, window_labels


def test_window_positions_and_contents():
    x = np.arange(20, dtype=np.float32)[:, None].repeat(2, axis=1)
    windows, ends = StreamingWindower(WindowSpec(5, 3), 2).push(x)
    np.testing.assert_array_equal(ends, [4, 7, 10, 13, 16, 19])
    np.testing.assert_array_equal(windows[1, 0], [3, 4, 5, 6, 7])
    assert windows.shape == (6, 2, 5)  # channel-major


def test_label_rule_last_sample_and_drops():
    labels = np.array([0] * 10 + [-1] * 5 + [1] * 10)
    reps = np.array([0] * 10 + [-1] * 5 + [0] * 5 + [1] * 5)
    ends = np.arange(3, 25)
    y, keep = window_labels(labels, reps, ends, 4)
    kept = dict(zip(ends[keep].tolist(), y[keep].tolist()))
    assert kept[9] == 0 and kept[18] == 1 and kept[24] == 1
    assert 10 not in kept and 14 not in kept          # last sample unlabelled / straddles
    assert 19 in kept                                  # wholly inside repetition 0
    assert 20 not in kept and 22 not in kept          # span the repetition change at 20
    assert 17 not in kept                              # starts in the unlabelled stretch
    y2, keep2 = window_labels(labels, reps, ends, 4, keep_transitions=True)
    # rest before a repetition belongs to it: a label change out of rest is kept when asked
    assert keep2[ends == 17][0] and y2[ends == 17][0] == 1
    assert not keep2[ends == 21][0]                         # never across repetitions


def test_rest_shorter_than_a_window_does_not_join_two_repetitions():
    labels = np.array([1] * 8 + [-1] * 2 + [2] * 10)
    reps = np.array([0] * 8 + [-1] * 2 + [1] * 10)
    ends = np.arange(3, 20)
    y, keep = window_labels(labels, reps, ends, 4, keep_transitions=True)
    assert keep[ends == 11][0] and y[ends == 11][0] == 2    # rest + rep 1 only
    assert not keep[ends == 10][0]                          # rep 0 → rest → rep 1
