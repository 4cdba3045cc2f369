"""The shared model contract (DESIGN §5.5) and the model registry.

Every model takes keyword-only ``n_chans, n_times, n_outputs, sfreq`` plus its own
hyper-parameters, maps ``(batch, n_chans, n_times)`` → logits ``(batch, n_outputs)``, and ends in
a ``head`` module (the classifier) so "freeze the trunk" and feature taps mean the same thing for
every model. ``register_model`` also registers a ``<name>_tiny`` variant used by CI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from edgekd.errors import ConfigError
from edgekd.registry import Registry

ROLES = ("teacher", "student")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    cls: type
    role: str
    hparams: dict = field(default_factory=dict)
    description: str = ""


MODELS: Registry[ModelEntry] = Registry("model")


def register_model(name: str, role: str, tiny: dict, **defaults):
    """Class decorator: register ``name`` with ``defaults`` and ``name_tiny`` with ``tiny``
    overriding them."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")

    def add(cls: type) -> type:
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        MODELS.register(name)(ModelEntry(name, cls, role, dict(defaults), doc))
        MODELS.register(f"{name}_tiny")(ModelEntry(f"{name}_tiny", cls, role,
                                                   {**defaults, **tiny}, f"{doc} (tiny, for CI)"))
        return cls
    return add


class EdgeModel(nn.Module):
    """Base class: stores the constructor contract so ``get_config`` can round-trip it."""

    head: nn.Module

    def __init__(self, *, n_chans: int, n_times: int, n_outputs: int, sfreq: float):
        super().__init__()
        self.n_chans, self.n_times, self.n_outputs, self.sfreq = n_chans, n_times, n_outputs, sfreq
        self._config: dict = {}

    def get_config(self) -> dict:
        return dict(self._config)

    restore_drop: tuple[str, ...] = ()  # hparams not needed to rebuild from a checkpoint

    @classmethod
    def resolve_hparams(cls, hparams: dict) -> dict:
        """Fill in hyper-parameters that depend on external files (e.g. a pretrained
        folder), so the recorded config alone rebuilds the architecture."""
        return hparams

    @classmethod
    def from_config(cls, config: dict) -> "EdgeModel":
        """Rebuild the architecture (weights come from the checkpoint's state dict)."""
        entry = MODELS.get(config["name"])
        hparams = {k: (None if k in entry.cls.restore_drop else v)
                   for k, v in config["hparams"].items()}
        return create_model(config["name"], **config["shape"], **hparams)


def create_model(name: str, *, n_chans: int, n_times: int, n_outputs: int, sfreq: float,
                 **overrides) -> EdgeModel:
    """Build a registered model; unknown hyper-parameters are refused with the valid ones."""
    entry = MODELS.get(name)
    unknown = set(overrides) - set(entry.hparams)
    if unknown:
        raise ConfigError(f"model {name!r} has no hyper-parameter(s) {sorted(unknown)} "
                          f"(valid: {sorted(entry.hparams)})")
    hparams = entry.cls.resolve_hparams({**entry.hparams, **overrides})
    shape = dict(n_chans=n_chans, n_times=n_times, n_outputs=n_outputs, sfreq=sfreq)
    model = entry.cls(**shape, **hparams)
    model._config = {"name": name, "role": entry.role, "shape": shape, "hparams": hparams}
    return model


def model_from_config(config: dict) -> EdgeModel:
    return EdgeModel.from_config(config)


def list_models(role: str | None = None) -> list[ModelEntry]:
    return [e for _, e in MODELS.items() if role is None or e.role == role]
