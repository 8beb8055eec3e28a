"""Checkpoint sweeps: score every checkpoint of a training run and read the results back."""

from s2sbench.sweeps.checkpoints import Checkpoint, find_checkpoints, parse_step
from s2sbench.sweeps.series import Point, Sweep, is_sweep_dir, load_sweep, parse_summary

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
