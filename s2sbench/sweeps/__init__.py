"""Checkpoint sweeps: score every checkpoint of a training run and read the results back."""

from s2sbench.reports.sweep_series import Point, Sweep, is_sweep_dir, load_sweep, parse_summary
from s2sbench.sweeps.checkpoints import Checkpoint, find_checkpoints, parse_step

__all__ = [
    "Checkpoint",
    "Point",
    "Sweep",
    "find_checkpoints",
    "is_sweep_dir",
    "load_sweep",
    "parse_step",
    "parse_summary",
]
