"""Stage 6 -- metrics: derived from stored raw scores only; never touches a model."""

from s2sbench.metrics.accuracy import TaskMetrics, item_correct, pairwise_outcomes, task_metrics

__all__ = ["TaskMetrics", "item_correct", "pairwise_outcomes", "task_metrics"]
