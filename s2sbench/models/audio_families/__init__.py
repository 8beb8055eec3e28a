"""Helpers shared by the audio-LLM adapters: text/continuation splitting, audio-feature
collation across requests, and per-call model state that must not leak between batches."""
