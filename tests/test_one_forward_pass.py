"""One forward-pass implementation: TokenScorer, driven by ContextScorer, scores every adapter
over token ids (issue 18 item 2).

Every forward that ``hf-audio``, the GLM-4-Voice and Kimi-Audio plugins and ``unit-lm`` run
happens inside :class:`TokenScorer`'s shared-context or full-sequence strategy (an input
embedding hook sees each forward and whether one of the two strategies is running); GLM's
two paths agree; ``hf-audio`` leaves the shared path by :class:`ContextReuse`'s one rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

# session fixtures shared with the adapters' own tests (same tiny models, same audio)
from test_hf_audio import make_task, qwen_dir, wavs  # noqa: E402,F401
from test_hf_audio import requests_for as audio_requests  # noqa: E402
from test_plugins_zoo import glm_dir, hubert_args, kimi_dir  # noqa: E402,F401
from test_unit_lm import parts, requests_for, run, spoken_task, unit_lm  # noqa: E402,F401

from s2sbench.core.conditions import Condition
from s2sbench.models.causal_scoring import TokenScorer
from s2sbench.models.hf_audio import HFAudioLM
from s2sbench.models.kv_reuse import CannotReuseCache
from s2sbench.plugins.glm4_voice import GLM4Voice
from s2sbench.plugins.kimi_audio import KimiAudio

TOL = 1e-5


class ForwardTracker:
    """Counts the requests (shared) and pairs (full) TokenScorer's strategies receive, and
    records, for every forward of a watched model, whether one of them was running."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.shared = self.full = self.depth = 0
        self.forwards: list[bool] = []
        real_shared, real_full = TokenScorer.shared_context, TokenScorer.full_sequences

        def shared(scorer: TokenScorer, batch: list[Any]) -> Any:
            self.shared += len(batch)
            with self._inside():
                return real_shared(scorer, batch)

        def full(scorer: TokenScorer, pairs: list[Any], *extras: Any) -> Any:
            self.full += len(pairs)
            with self._inside():
                return real_full(scorer, pairs, *extras)

        monkeypatch.setattr(TokenScorer, "shared_context", shared)
        monkeypatch.setattr(TokenScorer, "full_sequences", full)
        self.handles: list[Any] = []

    @contextmanager
    def _inside(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def watch(self, model: Any) -> None:
        """Every forward of ``model`` embeds its tokens first: note where it ran."""
        embeddings = model.get_input_embeddings()
        hook = embeddings.register_forward_pre_hook(lambda *_: self.forwards.append(self.depth > 0))
        self.handles.append(hook)

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


@pytest.fixture()
def tracker(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardTracker]:
    found = ForwardTracker(monkeypatch)
    yield found
    found.close()


def scored(model: Any, requests: list[Any]) -> list[list[float]]:
    return [[s.logprob_sum for s in scores] for scores in run(model, requests)]


def assert_close(got: list[list[float]], want: list[list[float]]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a == pytest.approx(b, abs=TOL)


def glm(glm_dir: Path, parts: dict[str, Path], **kwargs: Any) -> GLM4Voice:  # noqa: F811
    args = {"pretrained": str(glm_dir), "trust_remote_code": True, **hubert_args(parts)}
    return GLM4Voice(**args, **kwargs)


Case = Callable[[dict[str, Any]], tuple[Any, list[Any]]]
CASES: dict[str, Case] = {
    "hf-audio-s2t": lambda f: (
        HFAudioLM(str(f["qwen_dir"]), dtype="float32", batch_size=4),
        audio_requests(make_task([f["wavs"]["short"], f["wavs"]["other"]]), Condition.S2T),
    ),
    "hf-audio-t2t": lambda f: (
        HFAudioLM(str(f["qwen_dir"]), dtype="float32", batch_size=4),
        audio_requests(make_task([f["wavs"]["short"], f["wavs"]["other"]]), Condition.T2T),
    ),
    "glm4-voice": lambda f: (
        glm(f["glm_dir"], f["parts"], batch_size=4),
        requests_for(f["spoken_task"], Condition.S2S),
    ),
    "kimi-audio": lambda f: (
        KimiAudio(
            pretrained=str(f["kimi_dir"]),
            trust_remote_code=True,
            batch_size=4,
            **hubert_args(f["parts"]),
        ),
        requests_for(f["spoken_task"], Condition.T2S),
    ),
    "unit-lm": lambda f: (
        unit_lm(f["parts"], batch_size=4),
        requests_for(f["spoken_task"], Condition.S2S),
    ),
}
SHARED_BY_DEFAULT = {"hf-audio-s2t", "hf-audio-t2t", "glm4-voice", "unit-lm"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_forward_runs_inside_the_token_scorer(
    case: str,
    tracker: ForwardTracker,
    qwen_dir: Path,  # noqa: F811
    wavs: dict[str, Path],  # noqa: F811
    glm_dir: Path,  # noqa: F811
    kimi_dir: Path,  # noqa: F811
    parts: dict[str, Path],  # noqa: F811
    spoken_task: Path,  # noqa: F811
) -> None:
    fixtures = dict(
        qwen_dir=qwen_dir,
        wavs=wavs,
        glm_dir=glm_dir,
        kimi_dir=kimi_dir,
        parts=parts,
        spoken_task=spoken_task,
    )
    model, requests = CASES[case](fixtures)
    tracker.watch(model.model)
    scores = run(model, requests)
    assert len(scores) == len(requests) and all(s.logprob_sum < 0 for r in scores for s in r)
    assert tracker.forwards and all(tracker.forwards), "a forward ran outside TokenScorer"
    if case in SHARED_BY_DEFAULT:  # shared context by default, nothing left for the fallback
        assert tracker.shared == len(requests) and tracker.full == 0
    else:  # Kimi-Audio: two streams, full sequences only
        assert tracker.shared == 0
        assert tracker.full == sum(len(r.continuation_audio) for r in requests)


@pytest.mark.parametrize("condition", [Condition.S2S, Condition.T2S])
def test_glm_shared_context_equals_full_sequences(
    condition: Condition,
    tracker: ForwardTracker,
    glm_dir: Path,  # noqa: F811
    parts: dict[str, Path],  # noqa: F811
    spoken_task: Path,  # noqa: F811
) -> None:
    requests = requests_for(spoken_task, condition)
    want = scored(glm(glm_dir, parts, batch_size=1, reuse_context=False), requests)
    assert tracker.shared == 0 and tracker.full > 0
    for batch_size in (1, 3, 8):
        tracker.shared = tracker.full = 0
        model = glm(glm_dir, parts, batch_size=batch_size)
        assert_close(scored(model, requests), want)
        assert tracker.shared == len(requests) and tracker.full == 0
        assert not model.scorer.reuse.gave_up


def test_hf_audio_leaves_the_shared_path_by_the_one_rule(
    tracker: ForwardTracker,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    qwen_dir: Path,  # noqa: F811
    wavs: dict[str, Path],  # noqa: F811
) -> None:
    task = make_task([wavs["short"], wavs["other"], wavs["medium"]])
    heard, read = audio_requests(task, Condition.S2T), audio_requests(task, Condition.T2T)
    requests = heard + read
    full = HFAudioLM(str(qwen_dir), dtype="float32", batch_size=2, reuse_context=False)
    want = scored(full, requests)

    # 1. routed per request: only the text requests fit a (pretend) 40-token window
    window = HFAudioLM(str(qwen_dir), dtype="float32", batch_size=2)
    window.weights._model = full.model
    monkeypatch.setattr("s2sbench.models.context_scorer.reuse_limit", lambda config: 40)
    tracker.shared = tracker.full = 0
    assert_close(scored(window, requests), want)
    assert tracker.shared == len(read)  # every S2T context is longer than 40 tokens
    assert tracker.full == sum(len(r.continuations) for r in heard)
    assert window.reuse_context and not window.reuse.gave_up
    monkeypatch.undo()

    # 2. a cache that cannot be copied, raised by a forward: full sequences from then on
    tracker = ForwardTracker(monkeypatch)
    broken = HFAudioLM(str(qwen_dir), dtype="float32", batch_size=2)
    broken.weights._model = full.model

    def refuse(*args: Any) -> Any:
        raise CannotReuseCache("cannot copy this cache")

    monkeypatch.setattr("s2sbench.models.causal_scoring.expand_cache", refuse)
    with caplog.at_level(logging.WARNING):
        assert_close(scored(broken, requests), want)
    assert broken.reuse.gave_up and not broken.reuse_context
    assert sum("cannot reuse the context cache" in r.message for r in caplog.records) == 1
    assert 1 <= tracker.shared <= 2  # the first batch tried, then all as full sequences
    assert tracker.full == sum(len(r.continuations) for r in requests)
