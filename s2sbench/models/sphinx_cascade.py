"""The offline default model: pocketsphinx ASR -> the bundled en-US 3-gram LM.

T2T scores the continuation after the real context text with the 3-gram
(exactly as the ``ngram`` adapter). S2T first transcribes the context audio,
then scores ``transcript + joiner + continuation`` as if the transcript were
the context text (no speech prefix: a text LM never hears audio). So the two
conditions differ only in what the ASR heard, and the T2T -> S2T gap is the
cascade's honest intelligence degradation. The transcript is kept in
``extra["transcript"]``.

Note what the transcript lacks: ASR output has no punctuation, so the 3-gram
sees no sentence end before the continuation in S2T, whereas in T2T the
context's final full stop makes the continuation start a new sentence.
That is part of what is lost by hearing instead of reading.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore
from s2sbench.models.asr_backend import Transcripts
from s2sbench.models.ngram import OOV_LOGPROB, NGramScorer
from s2sbench.models.sphinx_asr import SphinxTranscriber
from s2sbench.models.sphinx_decoder import decoder_config, default_model_paths

LANGUAGE_NAMES = {"zh": "Chinese", "en": "English"}


class SphinxCascade:
    """English ASR -> 3-gram cascade; T2T and S2T only.

    Model args: ``lm_path`` (the scoring LM; default the bundled en-us.lm.bin),
    ``hmm``, ``dict_path`` and ``asr_lm`` (ASR models; default the bundled
    en-US ones), ``preset`` (``fast`` or ``full`` decoder search), ``workers``
    (ASR processes; default all cores).
    """

    name = "sphinx"
    summary = "pocketsphinx ASR -> bundled en-US 3-gram LM, offline, torch-free"
    conditions = ("t2t", "s2t", "none")
    languages = "English"

    def __init__(
        self,
        lm_path: str | None = None,
        hmm: str | None = None,
        dict_path: str | None = None,
        asr_lm: str | None = None,
        preset: str = "fast",
        workers: int | None = None,
        **_runtime: Any,
    ):
        self.asr_config = decoder_config(preset, hmm=hmm, lm=asr_lm, dict_path=dict_path)
        self.lm_path = str(Path(lm_path).resolve()) if lm_path else default_model_paths()["lm"]
        self.scorer = NGramScorer(self.lm_path)
        self.transcriber = SphinxTranscriber(self.asr_config, workers=workers)
        self.transcripts = Transcripts(self.transcriber)

    def fingerprint(self) -> dict[str, Any]:
        return {
            "adapter": self.name,
            "lm": self.lm_path,
            "asr": self.asr_config,
            "oov_logprob": OOV_LOGPROB,
        }

    def runtime_stats(self) -> dict[str, Any]:
        """This run's ASR cost; files found in the transcript cache cost no decoding."""
        return {"asr": {**self.transcripts.stats(), **self.transcriber.stats()}}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if lang != "en":
            language = LANGUAGE_NAMES.get(lang, lang)
            return (
                f"the bundled pocketsphinx en-US acoustic model and 3-gram LM cannot run "
                f"{language}: the sphinx cascade is English only"
            )
        if condition.continuation_is_speech:
            return (
                f"{condition.value.upper()} scores spoken continuations and needs a "
                f"speech-continuation model; the sphinx cascade scores text continuations only"
            )
        return None

    def _score_text(self, context: str, request: ContextRequest) -> list[ContinuationScore]:
        return [self.scorer.score_text(context, c) for c in request.continuations]

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        speech: list[int] = []
        for index, request in enumerate(requests):
            if request.context_text is None:
                speech.append(index)
                continue
            yield index, self._score_text(request.prefix + request.context_text, request)
        if not speech:
            return
        # One batch for every spoken context: each distinct file is decoded once, in parallel.
        audio = [Path(requests[i].context_audio) for i in speech]  # type: ignore[arg-type]
        transcripts = self.transcripts.get_many(audio, "en")
        for index, path in zip(speech, audio):
            request, transcript = requests[index], transcripts[path]
            yield (
                index,
                [
                    ContinuationScore(
                        s.logprob_sum, s.n_tokens, {**s.extra, "transcript": transcript}
                    )
                    for s in self._score_text(transcript + request.joiner, request)
                ],
            )
