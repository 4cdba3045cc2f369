"""Knowledge distillation: KD losses, the distillation task, teacher inputs and paired comparisons."""
