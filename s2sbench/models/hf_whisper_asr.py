"""A ``transformers`` speech-to-text model (Whisper family) as an :class:`ASRBackend`.

``transcribe_many`` decodes every file once, cuts audio longer than the model's
window as the ``long_audio`` policy says, and runs greedy ``generate`` over
batches of windows (longest first, halving the batch on out-of-memory). Whisper
pads every window to 30 s itself, so a window's features do not depend on what
it is batched with; the attention mask is passed anyway for models that use
one. The pieces of a chunked file are joined in order with the joiner.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s2sbench.core.checkpoint_files import resolve_local_dir, weights_fingerprint
from s2sbench.core.errors import ModelError
from s2sbench.core.hf_loading import load_preprocessor, load_pretrained
from s2sbench.data.audio import AudioLoader, check_policy
from s2sbench.models.batching import AutoBatcher
from s2sbench.requests.prompts import REFERENCE_JOINER

Piece = tuple[int, Any]  # (index of the file, samples of one window)


class HFWhisperASR:
    """Greedy, batched transcription with a transformers speech-seq2seq model."""

    def __init__(
        self,
        path: str,
        *,
        dtype: str = "auto",
        device: str | None = None,
        revision: str | None = None,
        long_audio: str = "error",
        batch_size: int | str | None = 8,
        trust_remote_code: bool = False,
        allow_pickle: bool = False,
        allow_weight_mismatch: bool = False,
    ):
        from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

        self.path = str(path)
        self.revision = revision
        self.model = load_pretrained(
            AutoModelForSpeechSeq2Seq,
            path,
            dtype=dtype,
            device=device,
            revision=revision,
            trust_remote_code=trust_remote_code,
            allow_pickle=allow_pickle,
            allow_weight_mismatch=allow_weight_mismatch,
        )
        self.processor = load_preprocessor(
            AutoProcessor, path, revision=revision, trust_remote_code=trust_remote_code
        )
        extractor = getattr(self.processor, "feature_extractor", None)
        if extractor is None:
            raise ModelError("the ASR processor has no audio feature extractor", where=self.path)
        self.sampling_rate = int(extractor.sampling_rate)
        window = getattr(extractor, "chunk_length", None)
        self.loader = AudioLoader(self.sampling_rate, window, check_policy(long_audio))
        self.batcher: AutoBatcher[Piece, list[str]] = AutoBatcher(batch_size, auto_start=8)
        self._local = resolve_local_dir(path, revision)

    def fingerprint(self) -> dict[str, Any]:
        return {
            "pretrained": str(self._local or self.path),
            "revision": self.revision,
            "dtype": str(self.model.dtype).removeprefix("torch."),
            "decoding": "greedy",
            # decoding settings (max length, suppressed tokens) live here, not in config.json
            "generation_config_sha256": hashlib.sha256(
                self.model.generation_config.to_json_string().encode()
            ).hexdigest()[:20],
            **weights_fingerprint(self._local),
        }

    def languages(self) -> dict[str, int] | None:
        """Whisper's language tokens, or None for an English-only (or language-free) model."""
        config = self.model.generation_config
        if not getattr(config, "is_multilingual", False):
            return None
        return getattr(config, "lang_to_id", None) or None

    def unsupported_reason(self, lang: str) -> str | None:
        languages = self.languages()
        if languages is not None and f"<|{lang}|>" not in languages:
            return f"the ASR model has no language token for '{lang}'"
        if languages is None and self.model.config.model_type == "whisper" and lang != "en":
            return f"the ASR model is an English-only Whisper; it cannot transcribe '{lang}'"
        return None

    def transcribe_many(
        self, paths: Sequence[Path], lang: str, *, joiner: str | None = None
    ) -> dict[Path, str]:
        """Each file's transcript; a chunked file's windows joined with ``joiner`` (None:
        the language's joiner)."""
        glue = REFERENCE_JOINER.get(lang, " ") if joiner is None else joiner
        pieces: list[Piece] = [
            (i, samples) for i, path in enumerate(paths) for samples in self.loader.load(path)
        ]
        texts: list[str | None] = [None] * len(pieces)
        for indices, batch_texts in self.batcher.run(
            pieces, lambda batch: self._generate(batch, lang), length=lambda p: len(p[1])
        ):
            for index, heard in zip(indices, batch_texts):
                texts[index] = heard
        by_file: list[list[str]] = [[] for _ in paths]
        for (i, _), text in zip(pieces, texts):
            by_file[i].append((text or "").strip())
        return {Path(p): glue.join(parts).strip() for p, parts in zip(paths, by_file)}

    def _generate(self, batch: list[Piece], lang: str) -> list[str]:
        import torch

        features = self.processor.feature_extractor(
            [samples for _, samples in batch],
            sampling_rate=self.sampling_rate,
            return_attention_mask=True,
            return_tensors="pt",
        )
        kwargs: dict[str, Any] = {}
        if "attention_mask" in features:
            kwargs["attention_mask"] = features["attention_mask"].to(self.model.device)
        if self.languages() is not None:
            kwargs.update(language=lang, task="transcribe")
        inputs = features["input_features"].to(self.model.device, self.model.dtype)
        with torch.inference_mode():
            ids = self.model.generate(inputs, do_sample=False, num_beams=1, **kwargs)
        return list(self.processor.batch_decode(ids, skip_special_tokens=True))
