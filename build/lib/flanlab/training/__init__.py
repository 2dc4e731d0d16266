"""Fine-tuning: optimiser, schedule and the fit loop."""

from flanlab.training.loop import fit

__all__ = ["fit"]
