"""A training task turns a batch into a loss (DESIGN §5.7): ``forward(x, y, idx)`` returns
``{"loss", "output", "task_loss", "kd_loss"}``. Plain classification is the task with no KD
term; distillation tasks (edgekd.distill) add one. ``idx`` are the batch's indices into the
training set, so a task can look up cached per-window values (e.g. teacher logits)."""

from __future__ import annotations

import torch
from torch import nn


class ClassificationTask(nn.Module):
    def __init__(self, model: nn.Module, label_smoothing: float = 0.0):
        super().__init__()
        self.model = model
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def forward(self, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor | None = None) -> dict:
        output = self.model(x)
        loss = self.criterion(output, y)
        return {"loss": loss, "output": output, "task_loss": loss.detach(),
                "kd_loss": torch.zeros((), device=x.device)}
