"""Data model, readers, the native format and the synthetic armband."""

from edgekd.data.recording import UNLABELLED, Dataset, Problem, Recording

__all__ = ["Dataset", "Problem", "Recording", "UNLABELLED"]
