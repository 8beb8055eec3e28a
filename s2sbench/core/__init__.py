"""The core layer: types and utilities every pipeline stage shares, importing no stage.

Items and tasks, conditions, context requests, continuation scores and the
scoring protocol, score records, errors, paths, progress, atomic and strict-JSON
writes, regular-file opens, file hashing, weights identity, ``module:object``
resolution and locks. See docs/architecture.md for the layer rule.
"""
