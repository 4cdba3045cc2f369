"""Feature taps by module path, with forward hooks (models are never edited)."""

from __future__ import annotations

import torch
from torch import nn

from edgekd.errors import ConfigError


class FeatureTap:
    """Keeps the latest output of ``model``'s submodule at dotted ``path``."""

    def __init__(self, model: nn.Module, path: str):
        modules = dict(model.named_modules())
        if path not in modules:
            names = [n for n in modules if n][:30]
            raise ConfigError(f"no module {path!r} in {type(model).__name__} (some paths: "
                              f"{', '.join(names)})")
        self.path = path
        self.value: torch.Tensor | None = None
        self._handle = modules[path].register_forward_hook(self._keep)

    def _keep(self, _module, _inputs, output) -> None:
        self.value = output[0] if isinstance(output, tuple) else output

    def remove(self) -> None:
        self._handle.remove()


def make_adapter(student_feature: torch.Tensor, teacher_feature: torch.Tensor) -> nn.Module:
    """1×1 conv for sequences ``[B, C, T]``, linear for vectors ``[B, C]``."""
    if student_feature.dim() != teacher_feature.dim():
        raise ConfigError(f"feature ranks differ: student {tuple(student_feature.shape)} vs "
                          f"teacher {tuple(teacher_feature.shape)}")
    c_s, c_t = student_feature.shape[1], teacher_feature.shape[1]
    return nn.Conv1d(c_s, c_t, 1) if student_feature.dim() == 3 else nn.Linear(c_s, c_t)
