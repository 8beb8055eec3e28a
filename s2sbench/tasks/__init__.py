"""Stage 2 -- tasks: typed immutable items, the task registry, the built-in sample suite."""

from s2sbench.tasks.item import Item, Task
from s2sbench.tasks.registry import TaskSpec, list_tasks, resolve_tasks

__all__ = ["Item", "Task", "TaskSpec", "list_tasks", "resolve_tasks"]
