"""Batched, bounded greedy decoding of Whisper on CTranslate2 (what ``WhisperCT2ASR`` runs).

Why not faster-whisper's ``transcribe``: it decodes one file at a time, detects
the language, and on a repetitive result falls back to *sampling* (temperature
0.2, 0.4, ...), so a transcript depends on a random draw. Here several 30-s
windows go through one ``encode`` and one ``generate`` call, the language token
is the task's, and every step is deterministic:

* **Features.** faster-whisper's own log-Mel extractor on each window alone,
  cut or zero-padded to Whisper's 3000 frames, exactly as its batched pipeline
  does; each row of a batch is therefore what it would be alone, and the model
  sees no padding it would not see anyway.
* **Token budget.** A window of ``s`` seconds may produce at most
  ``tokens_base + tokens_per_second * s`` tokens (and never more than the
  model's 224). The fastest rate in the built-in suite is 6.3 reference tokens
  per second (espeak-ng Mandarin; English is about 5); 12 tokens/s is twice
  that and still above fast human Mandarin (about 6-7 characters/s at 1-1.5
  tokens each). Loops cannot run past it, so a hallucinating window costs
  O(its duration), not the model's maximum. One ``generate`` call serves
  windows with different budgets: it runs to the largest, and each result is
  cut to its own budget. Greedy decoding is prefix-consistent, so the cut
  result equals a decode that stopped at the budget: a transcript never
  depends on its batch mates.
* **Repetition guard, by retry.** A result that is degenerate, i.e. its text
  compresses more than ``retry_compression_ratio`` (2.4, Whisper's own loop
  test) or it used up its budget, is decoded once more with
  ``no_repeat_ngram_size=3``, and that result is kept. The guard is not on for
  every window, because correct transcripts repeat 3-grams (43 of the 46
  built-in Chinese stories and 11 of the 46 English ones do, in Whisper
  tokens); after a loop the first result is junk anyway. Measured on the
  built-in suite: espeak-ng Mandarin loops in 8/46 stories and 10/80 sCMMLU
  statements; with the retry none does, the Chinese story CER drops from 1.08
  to 0.73 and English is untouched (it never loops). The worst case per window
  is two budgets.
* **Encoder window.** Whisper was trained on 30-s windows, and by default every
  window is padded to 30 s (3000 frames), as faster-whisper does. The encoder's cost
  grows with its frames, and a spoken context of the built-in suite lasts 3 to 15 s,
  so most of a 30-s encode is padding. ``encoder_window="fit"`` pads each window only
  to the next multiple of ``fit_step_seconds`` instead: the frame count is a function
  of the window's own length, so a transcript still never depends on its batch. It
  is a decoding option like the others: part of the transcript cache key, recorded
  in results.json. The bundled default uses it; what it costs in error rate is
  measured by ``benchmarks/bench_default_run.py``.
* **No-speech gate.** Whisper's own rule, as in openai-whisper and
  faster-whisper: a window whose no-speech probability is above 0.6 while its
  text averages below -1.0 log-prob per token is silence, and its transcript
  is ``""`` (silence otherwise comes out as "you" or "你"). An empty
  transcript is data: the cascade then scores the continuation without
  context. A result cut at its budget has no batch-independent average, so it
  is never judged silent.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

WINDOW_FRAMES = 3000  # 30 s of 10-ms log-Mel frames: Whisper's fixed encoder input
MODEL_MAX_NEW_TOKENS = 224  # Whisper's text context is 448; decoding may use half of it


@dataclass(frozen=True)
class DecodingOptions:
    """Everything besides model and audio that changes a transcript: part of the cache key."""

    tokens_base: int = 16
    tokens_per_second: float = 12.0
    retry_compression_ratio: float = 2.4
    retry_no_repeat_ngram_size: int = 3
    no_speech_threshold: float | None = 0.6
    log_prob_threshold: float = -1.0
    suppress_blank: bool = True
    # "full": every window padded to Whisper's 30 s (3000 frames), as it was trained;
    # "fit": padded only to the next multiple of ``fit_step_seconds`` (see the module notes).
    encoder_window: str = "full"
    fit_step_seconds: float = 5.0

    def __post_init__(self) -> None:
        if self.encoder_window not in ("full", "fit"):
            raise ValueError(f"encoder_window must be full or fit, not '{self.encoder_window}'")
        if not 0 < self.fit_step_seconds <= 30:
            raise ValueError("fit_step_seconds must be in (0, 30]")

    def frames(self, seconds: float) -> int:
        """Encoder frames of a window of ``seconds``: 3000, or its length rounded up to a step."""
        if self.encoder_window == "full":
            return WINDOW_FRAMES
        step = max(2, round(self.fit_step_seconds * 100) // 2 * 2)  # even: the encoder halves it
        needed = math.floor(max(seconds, 0.0) * 100) + 1
        return min(WINDOW_FRAMES, math.ceil(needed / step) * step)

    def budget(self, seconds: float) -> int:
        """Most tokens a window of ``seconds`` may produce."""
        wanted = math.ceil(self.tokens_base + self.tokens_per_second * max(seconds, 0.0))
        return max(1, min(MODEL_MAX_NEW_TOKENS, wanted))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WindowResult:
    """One window's transcript and how it was obtained.

    ``avg_logprob`` is None when the decode was cut at its budget (its score
    would then depend on how far the batch ran); ``silent``: the no-speech
    gate emptied the text; ``retried``: the repetition guard was used.
    """

    text: str
    n_tokens: int
    budget: int
    no_speech_prob: float
    avg_logprob: float | None
    retried: bool = False
    silent: bool = False

    @property
    def used_budget(self) -> bool:
        return self.n_tokens >= self.budget


def compression_ratio(text: str) -> float:
    """UTF-8 bytes over zlib-compressed bytes: loops compress far better than speech."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def window_features(extractor: Any, samples: np.ndarray, frames: int = WINDOW_FRAMES) -> np.ndarray:
    """``[n_mels, frames]`` log-Mel features of one window (cut or zero-padded to ``frames``)."""
    from faster_whisper.audio import pad_or_trim

    # The extractor appends one frame past the audio; faster-whisper drops it as well.
    return pad_or_trim(extractor(samples)[..., :-1], frames).astype(np.float32)


class BatchDecoder:
    """Runs ``encode`` + ``generate`` for a batch of windows of one language."""

    def __init__(self, model: Any, lang: str, options: DecodingOptions):
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self.model = model  # a faster_whisper.WhisperModel
        self.options = options
        self.tokenizer = Tokenizer(
            model.hf_tokenizer,
            model.model.is_multilingual,
            task="transcribe",
            language=lang if model.model.is_multilingual else None,
        )
        # Plain text, no timestamp tokens: the cascade reads the words only.
        self.prompt = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]
        self.suppress = list(get_suppressed_tokens(self.tokenizer, [-1]))
        self.generate_calls = 0
        self.encode_calls = 0
        self.tokens_generated = 0  # what decoding cost, before results are cut to their budgets

    def decode(self, windows: Sequence[np.ndarray], sample_rate: int) -> list[WindowResult]:
        """Transcripts of ``windows`` (mono float32 at ``sample_rate``), in order.

        Windows are encoded in groups of equal frame count (one group unless
        ``encoder_window="fit"``), each frame count a function of the window's own
        length, so no row is padded for the sake of another.
        """
        groups: dict[int, list[int]] = {}
        for index, window in enumerate(windows):
            frames = self.options.frames(len(window) / sample_rate)
            groups.setdefault(frames, []).append(index)
        results: list[WindowResult | None] = [None] * len(windows)
        for frames, indices in groups.items():
            got = self._decode_group([windows[i] for i in indices], frames, sample_rate)
            for index, result in zip(indices, got):
                results[index] = result
        return [r for r in results if r is not None]

    def _decode_group(
        self, windows: Sequence[np.ndarray], frames: int, sample_rate: int
    ) -> list[WindowResult]:
        import ctranslate2

        extractor = self.model.feature_extractor
        features = np.stack([window_features(extractor, w, frames) for w in windows])
        budgets = [self.options.budget(len(w) / sample_rate) for w in windows]
        # On the CPU side, so the retry can pick rows out of it on any device.
        encoded = self.model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features)), to_cpu=True
        )
        self.encode_calls += 1
        results = self._generate(encoded, budgets, no_repeat=0)
        bad = [i for i, r in enumerate(results) if self._degenerate(r)]
        if bad:
            rows = np.asarray(encoded)[bad]
            subset = ctranslate2.StorageView.from_array(np.ascontiguousarray(rows))
            again = self._generate(
                subset, [budgets[i] for i in bad], self.options.retry_no_repeat_ngram_size
            )
            for i, result in zip(bad, again):
                results[i] = dataclasses.replace(result, retried=True)
        return [self._gate(r) for r in results]

    def _degenerate(self, result: WindowResult) -> bool:
        if self._is_silence(result):
            return False  # silence ends the search, as in Whisper's own fallback
        return (
            result.used_budget
            or compression_ratio(result.text) > self.options.retry_compression_ratio
        )

    def _is_silence(self, result: WindowResult) -> bool:
        """Whisper's no-speech rule: the no-speech token is likely and the text is unlikely."""
        threshold = self.options.no_speech_threshold
        return (
            threshold is not None
            and result.avg_logprob is not None
            and result.no_speech_prob > threshold
            and result.avg_logprob < self.options.log_prob_threshold
        )

    def _gate(self, result: WindowResult) -> WindowResult:
        if result.text and self._is_silence(result):
            return dataclasses.replace(result, text="", silent=True)
        return result

    def _generate(self, encoded: Any, budgets: list[int], no_repeat: int) -> list[WindowResult]:
        """Greedy decode of each row, cut to its own budget."""
        # CTranslate2's Whisper yields at most max_length // 2 new tokens (measured: 10 -> 5,
        # 447 -> 223); asking for twice the largest budget and cutting keeps us exact either way.
        max_length = min(2 * max(budgets), 2 * MODEL_MAX_NEW_TOKENS)
        outputs = self.model.model.generate(
            encoded,
            [list(self.prompt) for _ in budgets],
            beam_size=1,  # greedy: only greedy results may be cut to a budget (see above)
            max_length=max_length,
            suppress_blank=self.options.suppress_blank,
            suppress_tokens=self.suppress,
            no_repeat_ngram_size=no_repeat,
            return_scores=True,
            return_no_speech_prob=True,
        )
        self.generate_calls += 1
        results = []
        for output, budget in zip(outputs, budgets):
            ids = list(output.sequences_ids[0])
            self.tokens_generated += len(ids)
            avg_logprob = None
            if len(ids) < budget:  # ended by itself: its score is its own, whatever the batch
                # The score is the length-normalised sum; faster-whisper's average adds the end.
                avg_logprob = output.scores[0] * len(ids) / (len(ids) + 1)
            ids = ids[:budget]
            text = self.tokenizer.decode(ids).strip()
            results.append(
                WindowResult(text, len(ids), budget, float(output.no_speech_prob), avg_logprob)
            )
        return results
