"""Sync: plan values, the pure planner, the no-op fast path, the pipeline, transaction and wheel store."""
