"""Training data: the rendered task mixture and its batching."""
