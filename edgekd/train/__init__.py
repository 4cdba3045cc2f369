"""Training: typed config, the epoch loop, checkpoints, run directories and evaluation."""
