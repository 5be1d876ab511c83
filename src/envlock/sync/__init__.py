"""Sync: plan values, the pure planner, the no-op fast path, the one pipeline and its target, the transaction
and its recovery, the wheel store, and materializing wheels into a venv."""
