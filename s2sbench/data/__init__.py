"""Stage 1 -- data: readers for on-disk layouts, audio I/O, validation."""
