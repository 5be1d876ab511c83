"""The check ``envlock check`` / ``run`` / ``doctor`` run, as the guard stage names it: the stdlib stamp check
with its fixes worded for the command line, judged by the lock's input freshness. Defined in
``inputs.fresh_cache`` beside the verdict it is judged by, so the answer before click (``envlock.quick``)
loads one module for it and not the ``guard`` package."""

from __future__ import annotations

from envlock.inputs.fresh_cache import check_options as check_options
from envlock.inputs.fresh_cache import drift_message as drift_message
from envlock.inputs.fresh_cache import run_check as run_check
