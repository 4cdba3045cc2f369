"""Typed training configuration, resolved once at the edge: defaults < YAML file < CLI flags.

YAML is read with ``yaml.safe_load`` (no tags that run code); unknown keys are refused with the
valid ones, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from edgekd.data.splits import SplitConfig
from edgekd.errors import ConfigError
from edgekd.signal import FilterSpec


@dataclass
class DataConfig:
    path: str = ""
    format: str | None = None
    modality: str | None = None        # default: the dataset's primary modality ('emg')
    channels: list[int] | None = None  # channel indices to keep (e.g. a 4-electrode student)
    window: int = 52                   # samples
    hop: int = 5                       # samples between training windows
    filters: FilterSpec = field(default_factory=FilterSpec)
    people: list[str] | None = None    # restrict to these people


@dataclass
class OptimConfig:
    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "adamw"           # adamw | adam | sgd
    lr: float = 3e-3
    weight_decay: float = 1e-2
    schedule: str = "cosine"           # cosine | onecycle | step | none
    patience: int = 8                  # early stopping on validation accuracy; 0 = off
    label_smoothing: float = 0.0


@dataclass
class AugmentConfig:
    amplitude: float = 0.0   # ± relative per-channel gain jitter (electrode contact)
    noise: float = 0.0       # additive Gaussian noise, in normalised units
    rotation: int = 0        # ± channels of circular electrode shift (armband rotation)

    @property
    def enabled(self) -> bool:
        return bool(self.amplitude or self.noise or self.rotation)


@dataclass
class KDConfig:
    """Distillation settings (``edgekd distill``). No teacher and mode offline = plain training."""

    teachers: list[str] = field(default_factory=list)  # run dirs of trained teachers (offline)
    mode: str = "offline"              # offline (frozen teachers) | online (mutual learning)
    loss: str = "hinton"               # hinton | dkd | lskd (see edgekd.distill.losses)
    alpha: float = 0.5                 # weight of the KD term; 0 = the paired no-KD baseline
    temperature: float = 4.0
    teacher_modality: str | None = None  # cross-modal: the teacher reads this modality
    teacher_model: str | None = None   # online: model trained together with the student
    teacher_lr: float | None = None    # online: the teacher's own learning rate
    feature_student: str | None = None  # FitNets hint: student module path
    feature_teacher: str | None = None  # FitNets hint: teacher module path
    feature_weight: float = 0.0
    dkd_alpha: float = 1.0
    dkd_beta: float = 8.0
    cross_fit: bool = False            # teachers are folds: out-of-fold soft targets per window

    @property
    def active(self) -> bool:
        return bool(self.teachers or self.mode == "online")

    def validate(self) -> None:
        if self.mode not in ("offline", "online"):
            raise ConfigError(f"kd mode={self.mode!r}: expected offline or online")
        if not 0 <= self.alpha <= 1:
            raise ConfigError(f"alpha={self.alpha} must lie in [0, 1]")
        if self.temperature <= 0:
            raise ConfigError(f"temperature={self.temperature} must be > 0")
        if self.mode == "online" and not self.teacher_model:
            raise ConfigError("online distillation needs --teacher-model NAME")
        if self.mode == "online" and self.teachers:
            raise ConfigError("online distillation trains its teacher: drop --teacher RUN_DIR")
        if self.cross_fit and (self.mode != "offline" or len(self.teachers) < 2):
            raise ConfigError("--cross-fit needs two or more offline teacher folds (--teacher)")
        if self.cross_fit and self.feature_student:
            raise ConfigError("--cross-fit gives cached soft targets; a feature hint needs the "
                              "teacher's forward pass: use one or the other")
        if bool(self.feature_student) != bool(self.feature_teacher):
            raise ConfigError("feature KD needs both --feature-student and --feature-teacher")
        if self.feature_student and self.feature_weight <= 0:
            raise ConfigError("feature KD needs --feature-weight > 0")


@dataclass
class TrainConfig:
    model: str = "cnn"
    model_args: dict = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 0
    device: str = "auto"               # auto | cpu | cuda
    amp: bool = True                   # mixed precision (bf16) on CUDA; ignored on CPU
    compile: bool = False              # torch.compile the model
    init_from: str | None = None       # run dir to start from (cross-person pre-training)
    freeze_trunk: bool = False         # with init_from: train only the head
    kd: KDConfig = field(default_factory=KDConfig)

    def validate(self) -> None:
        self.kd.validate()
        self._check_names()
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"device={self.device!r}: expected auto, cpu or cuda")
        if self.optim.optimizer not in ("adamw", "adam", "sgd"):
            raise ConfigError(f"optimizer={self.optim.optimizer!r}: expected adamw, adam or sgd")
        if self.optim.schedule not in ("cosine", "onecycle", "step", "none"):
            raise ConfigError(f"schedule={self.optim.schedule!r}: expected cosine, onecycle, "
                              "step or none")
        if self.optim.epochs < 1 or self.optim.batch_size < 1:
            raise ConfigError("epochs and batch_size must be >= 1")
        if self.freeze_trunk and not self.init_from:
            raise ConfigError("--freeze-trunk needs --init-from RUN_DIR")

    def _check_names(self) -> None:
        """Registry names are checked here, before a run directory is written, so a typo
        never leaves a half-made run behind."""
        from edgekd.distill.losses import KD_LOSSES
        from edgekd.models import MODELS
        entry = MODELS.get(self.model)
        unknown = set(self.model_args) - set(entry.hparams)
        if unknown:
            raise ConfigError(f"model {self.model!r} has no hyper-parameter(s) {sorted(unknown)} "
                              f"(valid: {sorted(entry.hparams)})")
        if self.kd.teacher_model:
            MODELS.get(self.kd.teacher_model)
        KD_LOSSES.get(self.kd.loss)

    def to_dict(self) -> dict:
        return asdict(self)


def _build(cls: type, values: dict, where: str):
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)} (valid: {sorted(names)})")
    kwargs = {}
    for name, value in values.items():
        sub = _nested_type(cls, name)
        kwargs[name] = _build(sub, value or {}, f"{where}.{name}") if sub else value
    return cls(**kwargs)


def _nested_type(cls: type, name: str) -> type | None:
    nested = {(TrainConfig, "data"): DataConfig, (TrainConfig, "split"): SplitConfig,
              (TrainConfig, "optim"): OptimConfig, (TrainConfig, "augment"): AugmentConfig,
              (DataConfig, "filters"): FilterSpec, (TrainConfig, "kd"): KDConfig}
    return nested.get((cls, name))


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def resolve(yaml_path: str | Path | None = None, overrides: dict[str, Any] | None = None,
            base: dict | None = None) -> TrainConfig:
    """defaults < ``base`` (e.g. a saved run) < YAML file < ``overrides`` (dotted keys from the
    CLI, e.g. ``{"optim.lr": 1e-3}``; ``None`` values mean "not given")."""
    merged = TrainConfig().to_dict()
    if base:
        merged = _merge(merged, base)
    if yaml_path:
        merged = _merge(merged, load_yaml(yaml_path))
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        node = merged
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    cfg = _build(TrainConfig, merged, "config")
    cfg.validate()
    return cfg


def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: invalid YAML ({getattr(err, 'problem', err)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config sections, got {type(data).__name__}")
    return data


def dump_yaml(cfg: TrainConfig) -> str:
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)
