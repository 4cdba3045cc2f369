"""Distillation as a training task (DESIGN §5.7): ``forward(x, y, idx)`` →
``{"loss", "output", "task_loss", "kd_loss"}`` with ``loss = (1 − α)·CE + α·KD (+ β·hint)``.

Offline teachers are frozen, kept in eval mode and run under ``no_grad``; their logits are
computed once per training window and cached unless the teacher must see this batch's input
(augmented same-modality input, or a feature hint). Online (mutual learning, Zhang et al. 2018):
the teacher is trained with the student; each one's KD term uses the other's detached output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edgekd.distill.features import FeatureTap, make_adapter
from edgekd.distill.losses import get_kd_loss, hint_loss
from edgekd.train.config import KDConfig


@dataclass
class TeacherView:
    """How one teacher gets its input for a batch: a per-window tensor (cross-modal, or
    unaugmented), or an affine map of the student's normalised input (same modality)."""

    inputs: torch.Tensor | None = None        # [n_train, C_t, T_t] on the device
    scale: torch.Tensor | None = None         # [C, 1]: teacher_in = x * scale + shift
    shift: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        if self.inputs is not None:
            return self.inputs[idx]
        return x * self.scale + self.shift


class DistillTask(nn.Module):
    def __init__(self, student: nn.Module, teachers: list[nn.Module], views: list[TeacherView],
                 kd: KDConfig, cached_logits: torch.Tensor | None = None):
        super().__init__()
        self.model = student
        self.teachers = nn.ModuleList(teachers)
        self.views = views
        self.kd = kd
        self.kd_loss = get_kd_loss(kd.loss, len(teachers))
        self.online = kd.mode == "online"
        self.ce = nn.CrossEntropyLoss()
        if not self.online:
            for t in self.teachers:
                t.requires_grad_(False)
        self.register_buffer("cached_logits", cached_logits, persistent=False)
        self.taps = None
        if kd.feature_student:
            self.taps = (FeatureTap(student, kd.feature_student),
                         FeatureTap(teachers[0], kd.feature_teacher))
            self.adapter = None  # built lazily from the first batch's feature shapes

    def train(self, mode: bool = True) -> "DistillTask":
        super().train(mode)
        if not self.online:
            self.teachers.eval()  # a frozen teacher never leaves eval mode (BN, dropout)
        return self

    def param_groups(self, lr: float) -> list[dict]:
        own = [p for n, p in self.named_parameters() if not n.startswith("teachers.")
               and p.requires_grad]
        groups = [{"params": own}]
        if self.online:
            groups.append({"params": list(self.teachers.parameters()),
                           "lr": self.kd.teacher_lr or lr})
        return groups

    def ensure_adapter(self, x: torch.Tensor, idx: torch.Tensor) -> None:
        """Build the hint adapter from one forward pass (before the optimizer is made)."""
        if self.taps is None or self.adapter is not None:
            return
        with torch.no_grad():
            self.model(x)
            self.teachers[0](self.views[0](x, idx))
        self.adapter = make_adapter(self.taps[0].value, self.taps[1].value).to(x.device)

    def forward(self, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor) -> dict:
        out = self.model(x)
        task_loss = self.ce(out, y)
        if self.kd.alpha == 0 and not self.taps:
            return {"loss": task_loss, "output": out, "task_loss": task_loss.detach(),
                    "kd_loss": torch.zeros((), device=x.device)}
        if self.online:
            return self._online(x, y, idx, out, task_loss)
        teacher_logits = self._teacher_logits(x, idx)
        kd = self.kd_loss(out, teacher_logits, temperature=self.kd.temperature, target=y,
                          dkd_alpha=self.kd.dkd_alpha, dkd_beta=self.kd.dkd_beta)
        loss = (1 - self.kd.alpha) * task_loss + self.kd.alpha * kd
        if self.taps:
            loss = loss + self.kd.feature_weight * hint_loss(self.taps[0].value,
                                                            self.taps[1].value, self.adapter)
        return {"loss": loss, "output": out, "task_loss": task_loss.detach(), "kd_loss": kd.detach()}

    def _teacher_logits(self, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        if self.cached_logits is not None and not self.taps:
            return self.cached_logits[:, idx]
        with torch.no_grad():
            return torch.stack([t(v(x, idx)).float() for t, v in zip(self.teachers, self.views)])

    def _online(self, x, y, idx, out, task_loss) -> dict:
        t_out = self.teachers[0](self.views[0](x, idx))
        a, temp = self.kd.alpha, self.kd.temperature
        kd_s = self.kd_loss(out, t_out.detach()[None], temperature=temp, target=y)
        kd_t = self.kd_loss(t_out, out.detach()[None], temperature=temp, target=y)
        loss_s = (1 - a) * task_loss + a * kd_s
        loss_t = (1 - a) * self.ce(t_out, y) + a * kd_t
        return {"loss": loss_s + loss_t, "output": out, "task_loss": task_loss.detach(),
                "kd_loss": kd_s.detach()}
