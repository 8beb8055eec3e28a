"""Stage 2 -- tasks: typed immutable items, the task registry (``tasks.registry``), the
built-in sample suite (``tasks/samples``) and its spoken contexts (``tasks.sample_audio``)."""

from s2sbench.core.item import Item, Task

__all__ = ["Item", "Task"]
