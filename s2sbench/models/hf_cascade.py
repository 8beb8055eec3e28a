"""``hf-cascade``: a Hugging Face ASR model (Whisper family) -> a Hugging Face causal LM.

S2T: the context audio is transcribed once (greedy ``generate``, language
from the request), then the LM scores ``transcript + joiner + continuation``
exactly as it scores a T2T text context, through :class:`HFCausalLM` itself (special
tokens, ``lm_add_bos_token`` and ``long_context`` included), so the cascade's S2T differs
from its T2T only by what the ASR heard. ``lm=`` may name a GGUF (``bundled:gemma3-270m``). The
transcript is kept in each score's ``extra["transcript"]``.

Transcripts are cached within a run by (audio path, content hash, language,
joiner): the continuations of a context, and several contexts sharing one
file, never transcribe it twice. Whisper sees 30 s at a time; longer audio
follows the ``long_audio`` policy (``chunk`` transcribes each window and
joins the pieces with the language's joiner).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from s2sbench.data.audio import AudioLoader, check_policy
from s2sbench.errors import ModelError
from s2sbench.models.base import ContinuationScore
from s2sbench.models.checkpoint_files import resolve_local_dir, weights_fingerprint
from s2sbench.models.hf_causal import HFCausalLM
from s2sbench.models.hf_loading import load_preprocessor, load_pretrained
from s2sbench.progress import Progress
from s2sbench.requests.build import ContextRequest
from s2sbench.requests.conditions import Condition

WINDOW = 64  # requests transcribed before their scoring: a killed run loses little ASR work


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:20]


class HFCascade:
    """Whisper-style ASR + causal LM; model_args ``asr=PATH,lm=PATH``."""

    name = "hf-cascade"

    def __init__(
        self,
        asr: str,
        lm: str,
        dtype: str = "auto",
        device: str | None = None,
        asr_revision: str | None = None,
        lm_revision: str | None = None,
        batch_size: int | str | None = None,
        long_audio: str = "error",
        long_context: str = "error",
        lm_add_bos_token: bool | None = None,
        trust_remote_code: bool = False,
        allow_pickle: bool = False,
        allow_weight_mismatch: bool = False,
        **_runtime: Any,
    ):
        from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

        self.asr_path = str(asr)
        self.asr_revision = asr_revision
        self.long_audio = check_policy(long_audio)
        self.lm = HFCausalLM(
            pretrained=lm,
            dtype=dtype,
            device=device,
            revision=lm_revision,
            batch_size=batch_size,
            add_bos_token=lm_add_bos_token,
            long_context=long_context,
            trust_remote_code=trust_remote_code,
            allow_pickle=allow_pickle,
            allow_weight_mismatch=allow_weight_mismatch,
        )
        self.asr = load_pretrained(
            AutoModelForSpeechSeq2Seq,
            asr,
            dtype=dtype,
            device=device,
            revision=asr_revision,
            trust_remote_code=trust_remote_code,
            allow_pickle=allow_pickle,
            allow_weight_mismatch=allow_weight_mismatch,
        )
        self.processor = load_preprocessor(
            AutoProcessor, asr, revision=asr_revision, trust_remote_code=trust_remote_code
        )
        extractor = getattr(self.processor, "feature_extractor", None)
        if extractor is None:
            raise ModelError(
                "the ASR processor has no audio feature extractor", where=self.asr_path
            )
        self.sampling_rate = int(extractor.sampling_rate)
        window = getattr(extractor, "chunk_length", None)
        self.loader = AudioLoader(self.sampling_rate, window, self.long_audio)
        self._asr_local = resolve_local_dir(asr, asr_revision)
        self._transcripts: dict[tuple[str, str, str, str], str] = {}
        self._hashes: dict[Path, str] = {}
        self._asr_progress: Progress | None = None

    def fingerprint(self) -> dict[str, Any]:
        return {
            "adapter": self.name,
            "asr": {
                "pretrained": str(self._asr_local or self.asr_path),
                "revision": self.asr_revision,
                "dtype": str(self.asr.dtype).removeprefix("torch."),
                "decoding": "greedy",
                # decoding settings (max length, suppressed tokens) live here, not in config.json
                "generation_config_sha256": hashlib.sha256(
                    self.asr.generation_config.to_json_string().encode()
                ).hexdigest()[:20],
                **weights_fingerprint(self._asr_local),
            },
            "lm": self.lm.fingerprint(),
            "long_audio": self.long_audio,
        }

    def _languages(self) -> dict[str, int] | None:
        """Whisper's language tokens, or None for an English-only (or language-free) model."""
        config = self.asr.generation_config
        if not getattr(config, "is_multilingual", False):
            return None
        return getattr(config, "lang_to_id", None) or None

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if condition.continuation_is_speech:
            return "a cascade scores text continuations only (T2T and S2T)"
        if not condition.context_is_speech:
            return None
        languages = self._languages()
        if languages is not None and f"<|{lang}|>" not in languages:
            return f"the ASR model has no language token for '{lang}'"
        if languages is None and self.asr.config.model_type == "whisper" and lang != "en":
            return f"the ASR model is an English-only Whisper; it cannot transcribe '{lang}'"
        return None

    def transcribe(self, path: Path, lang: str, joiner: str) -> str:
        """The transcript of ``path``, computed once per (file content, language, joiner)."""
        path = Path(path)
        if path not in self._hashes:
            self._hashes[path] = _file_hash(path)
        key = (str(path), self._hashes[path], lang, joiner)
        if key not in self._transcripts:
            self._transcripts[key] = self._run_asr(path, lang, joiner)
            if self._asr_progress is not None:
                self._asr_progress.update(1)
                if self._asr_progress.n >= (self._asr_progress.total or 0):
                    self._asr_progress.close()  # all heard: the scoring bar speaks again
        return self._transcripts[key]

    def _untranscribed(self, requests: Sequence[ContextRequest]) -> int:
        """How many distinct spoken contexts of ``requests`` still need the ASR (``none`` and
        T2T requests have none): the transcription progress counts these."""
        keys = set()
        for request in requests:
            if request.context_text is None and request.context_audio is not None:
                path = Path(request.context_audio)
                if path not in self._hashes:
                    self._hashes[path] = _file_hash(path)
                key = (str(path), self._hashes[path], request.lang, request.joiner)
                keys.add(key)
        return len(keys - self._transcripts.keys())

    def _run_asr(self, path: Path, lang: str, joiner: str) -> str:
        import torch

        pieces = self.loader.load(path)
        features = self.processor.feature_extractor(
            list(pieces),
            sampling_rate=self.sampling_rate,
            return_attention_mask=True,
            return_tensors="pt",
        )
        kwargs: dict[str, Any] = {}
        if "attention_mask" in features:
            kwargs["attention_mask"] = features["attention_mask"].to(self.asr.device)
        if self._languages() is not None:
            kwargs.update(language=lang, task="transcribe")
        inputs = features["input_features"].to(self.asr.device, self.asr.dtype)
        with torch.inference_mode():
            ids = self.asr.generate(inputs, do_sample=False, num_beams=1, **kwargs)
        texts = self.processor.batch_decode(ids, skip_special_tokens=True)
        return joiner.join(text.strip() for text in texts).strip()

    def _as_text(self, request: ContextRequest) -> tuple[ContextRequest, str | None]:
        """A speech request becomes a T2T-like one with the transcript as its context."""
        if request.context_text is not None:
            return request, None
        if request.context_audio is None:
            raise ModelError(
                "request has neither context text nor audio",
                where=f"task {request.task}, item {request.item_id}",
            )
        transcript = self.transcribe(request.context_audio, request.lang, request.joiner)
        text = dataclasses.replace(
            request,
            condition=Condition.T2T,
            prefix="",
            context_text=transcript,
            context_audio=None,
        )
        return text, transcript

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        self._asr_progress = Progress("transcribing (ASR)", self._untranscribed(requests), "file")
        try:
            yield from self._score(requests)
        finally:
            self._asr_progress.close()
            self._asr_progress = None

    def _score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for start in range(0, len(requests), WINDOW):
            window = [self._as_text(r) for r in requests[start : start + WINDOW]]
            texts = [text for text, _ in window]
            for index, scores in self.lm.score(texts):
                transcript = window[index][1]
                if transcript is not None:
                    scores = [
                        ContinuationScore(
                            s.logprob_sum, s.n_tokens, {**s.extra, "transcript": transcript}
                        )
                        for s in scores
                    ]
                yield start + index, scores
