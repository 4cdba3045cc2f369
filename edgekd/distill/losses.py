"""Distillation losses: pure functions in a registry (DESIGN §4.4, §5.7).

Every logit loss takes student logits ``[B, C]`` and teacher logits ``[K, B, C]`` (K teachers;
their softened distributions are averaged) and returns a scalar. None of them includes the
hard-label term: the task mixes ``(1 - α)·CE + α·KD``.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from edgekd.errors import ConfigError
from edgekd.registry import Registry

KDLoss = Callable[..., torch.Tensor]
KD_LOSSES: Registry[KDLoss] = Registry("KD loss")
MULTI_TEACHER = {"hinton"}  # losses defined for an average of several teachers


def _teacher_probs(teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if teacher_logits.dim() == 2:
        teacher_logits = teacher_logits[None]
    return F.softmax(teacher_logits / temperature, dim=-1).mean(0)


@KD_LOSSES.register("hinton")
def hinton_kd(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
              temperature: float = 4.0, **_) -> torch.Tensor:
    """Hinton et al. 2015: ``T² · KL(p_teacher ‖ p_student)`` on temperature-softened
    distributions, summed over classes and averaged over the batch (``batchmean``)."""
    p_t = _teacher_probs(teacher_logits, temperature)
    log_p_s = F.log_softmax(student_logits / temperature, dim=-1)
    return F.kl_div(log_p_s, p_t, reduction="batchmean") * temperature ** 2


@KD_LOSSES.register("lskd")
def logit_standardized_kd(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                          temperature: float = 2.0, **_) -> torch.Tensor:
    """Logit-standardised KD (Sun et al., CVPR 2024): z-score each sample's logits (student and
    teacher separately) before Hinton KD, so the student matches the teacher's logit *relations*
    rather than its scale."""
    def z(t: torch.Tensor) -> torch.Tensor:
        return (t - t.mean(-1, keepdim=True)) / (t.std(-1, keepdim=True) + 1e-7)
    return hinton_kd(z(student_logits), z(teacher_logits.squeeze(0)), temperature)


@KD_LOSSES.register("dkd")
def decoupled_kd(student_logits: torch.Tensor, teacher_logits: torch.Tensor, target: torch.Tensor,
                 temperature: float = 4.0, dkd_alpha: float = 1.0, dkd_beta: float = 8.0,
                 **_) -> torch.Tensor:
    """Decoupled KD (Zhao et al., CVPR 2022): ``α·TCKD + β·NCKD``. TCKD is the binary KL between
    target/non-target probabilities; NCKD the KL among non-target classes only. Both × T²,
    batch-averaged."""
    t = temperature
    z_s, z_t = student_logits / t, teacher_logits.squeeze(0) / t
    gt = F.one_hot(target, z_s.shape[-1]).bool()
    p_s, p_t = F.softmax(z_s, -1), F.softmax(z_t, -1)
    b_s = torch.stack([p_s[gt], p_s.masked_fill(gt, 0).sum(-1)], -1)
    b_t = torch.stack([p_t[gt], p_t.masked_fill(gt, 0).sum(-1)], -1)
    tckd = F.kl_div(torch.log(b_s + 1e-12), b_t, reduction="batchmean")
    nt_s = F.log_softmax(z_s.masked_fill(gt, -1e9), -1)
    nt_t = F.softmax(z_t.masked_fill(gt, -1e9), -1)
    nckd = F.kl_div(nt_s, nt_t, reduction="batchmean")
    return (dkd_alpha * tckd + dkd_beta * nckd) * t ** 2


def get_kd_loss(name: str, n_teachers: int) -> KDLoss:
    loss = KD_LOSSES.get(name)
    if n_teachers > 1 and name not in MULTI_TEACHER:
        raise ConfigError(f"KD loss {name!r} is defined for one teacher; with {n_teachers} "
                          f"teachers use one of {sorted(MULTI_TEACHER)}")
    return loss


def hint_loss(student_feature: torch.Tensor, teacher_feature: torch.Tensor,
              adapter: torch.nn.Module) -> torch.Tensor:
    """FitNets (Romero et al. 2015): MSE between the adapted student feature and the teacher
    feature. Sequences ``[B, C, T]`` are resampled to the teacher's length first."""
    s = adapter(student_feature)
    if s.dim() == 3 and s.shape[-1] != teacher_feature.shape[-1]:
        s = F.interpolate(s, size=teacher_feature.shape[-1], mode="linear", align_corners=False)
    return F.mse_loss(s, teacher_feature)
