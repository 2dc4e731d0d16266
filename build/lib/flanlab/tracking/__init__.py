"""Experiment tracking: a W&B run (offline by default) or a null run."""
