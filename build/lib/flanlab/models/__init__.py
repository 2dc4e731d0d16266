"""Models and tokenizers: built from config (offline) or loaded by Hugging Face name or path."""

from flanlab.models.load import LoadedModel, load_model

__all__ = ["LoadedModel", "load_model"]
