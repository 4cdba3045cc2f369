"""The model zoo: one registry of teachers and students sharing one constructor contract."""

from edgekd.models import micro, students, teachers_cnn, teachers_seq  # noqa: F401  (registers)
from edgekd.models.base import (MODELS, EdgeModel, ModelEntry, create_model, list_models,
                                model_from_config)

__all__ = ["MODELS", "EdgeModel", "ModelEntry", "create_model", "list_models", "model_from_config"]
