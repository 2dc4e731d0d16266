"""flanlab: a harness for FLAN-style instruction-tuning ablations."""

__version__ = "0.1.0"
