"""Zero-shot scoring: rank classification, generation metrics, aggregation over templates."""
