"""Rendering a task's rows into model inputs under one of the ablation's template variants."""

from flanlab.templates.variants import VARIANTS, render, render_for_scoring, render_for_training

__all__ = ["VARIANTS", "render", "render_for_scoring", "render_for_training"]
