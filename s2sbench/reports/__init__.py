"""Stage 7 -- reports: results.json, per-item sample logs, tables, plots."""
