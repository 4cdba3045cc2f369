"""Every KD loss against values computed by hand with numpy (independently of torch)."""

import numpy as np
import pytest
import torch

from edgekd.distill.losses import (KD_LOSSES, decoupled_kd, get_kd_loss, hint_loss, hinton_kd,
                                   logit_standardized_kd)
from edgekd.errors import ConfigError

S = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
T = np.array([[3.0, 0.0, -2.0], [1.0, -1.0, 0.5]])


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def kl(p, q):
    return float((p * (np.log(p) - np.log(q))).sum(-1).mean())  # batchmean


def test_hinton_by_hand():
    temp = 4.0
    expected = kl(softmax(T / temp), softmax(S / temp)) * temp ** 2
    got = hinton_kd(torch.tensor(S), torch.tensor(T), temperature=temp)
    assert got.item() == pytest.approx(expected, rel=1e-10)
    # batchmean, not mean over elements: the value does not shrink with the number of classes
    assert got.item() != pytest.approx(expected / 3)


def test_hinton_is_zero_when_student_matches_and_uses_teacher_as_target():
    assert hinton_kd(torch.tensor(T), torch.tensor(T)).item() == pytest.approx(0, abs=1e-12)
    # KL(teacher || student), not the reverse
    reverse = kl(softmax(S / 2), softmax(T / 2)) * 4
    assert hinton_kd(torch.tensor(S), torch.tensor(T), temperature=2).item() != \
        pytest.approx(reverse)


def test_multi_teacher_averages_softened_distributions():
    t2 = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    temp = 3.0
    p = (softmax(T / temp) + softmax(t2 / temp)) / 2
    expected = kl(p, softmax(S / temp)) * temp ** 2
    got = hinton_kd(torch.tensor(S), torch.tensor(np.stack([T, t2])), temperature=temp)
    assert got.item() == pytest.approx(expected, rel=1e-10)


def test_lskd_by_hand():
    def z(a):
        return (a - a.mean(-1, keepdims=True)) / a.std(-1, ddof=1, keepdims=True)
    temp = 2.0
    expected = kl(softmax(z(T) / temp), softmax(z(S) / temp)) * temp ** 2
    got = logit_standardized_kd(torch.tensor(S), torch.tensor(T), temperature=temp)
    assert got.item() == pytest.approx(expected, rel=1e-5)  # the code adds 1e-7 to each std
    # invariant to the teacher's logit scale and shift
    shifted = logit_standardized_kd(torch.tensor(S), torch.tensor(5 * T + 3), temperature=temp)
    assert shifted.item() == pytest.approx(got.item(), rel=1e-6)


def test_dkd_by_hand():
    temp, a, b = 2.0, 1.0, 8.0
    y = np.array([0, 2])
    ps, pt = softmax(S / temp), softmax(T / temp)
    rows = np.arange(2)
    bs = np.stack([ps[rows, y], 1 - ps[rows, y]], 1)
    bt = np.stack([pt[rows, y], 1 - pt[rows, y]], 1)
    tckd = kl(bt, bs)
    mask = np.ones_like(S, bool)
    mask[rows, y] = False
    nts = np.stack([softmax(S[i][mask[i]] / temp) for i in rows])
    ntt = np.stack([softmax(T[i][mask[i]] / temp) for i in rows])
    nckd = kl(ntt, nts)
    expected = (a * tckd + b * nckd) * temp ** 2
    got = decoupled_kd(torch.tensor(S), torch.tensor(T), torch.tensor(y), temperature=temp,
                       dkd_alpha=a, dkd_beta=b)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_hint_loss_by_hand():
    s = torch.tensor([[[1.0, 2.0]], [[0.0, -1.0]]])        # [B=2, C=1, T=2]
    t = torch.tensor([[[1.0, 1.0]], [[1.0, 1.0]]])
    adapter = torch.nn.Conv1d(1, 1, 1)
    with torch.no_grad():
        adapter.weight.fill_(2.0)
        adapter.bias.fill_(0.5)
    adapted = 2 * s.numpy() + 0.5
    assert hint_loss(s, t, adapter).item() == pytest.approx(((adapted - 1) ** 2).mean())


def test_registry_and_multi_teacher_refusal():
    assert set(KD_LOSSES.names()) == {"hinton", "lskd", "dkd"}
    with pytest.raises(ConfigError, match="defined for one teacher"):
        get_kd_loss("dkd", n_teachers=2)
