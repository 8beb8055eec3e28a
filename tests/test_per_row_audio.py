"""Reference per-row audio: each continuation of a story pair is heard after its own row's wav.

The reference S2T code scores row 2k+1 (the wrong ending) after ``(2k+1).wav``.
Two files with the same content are one spoken context (one request, the
context encoded once, the score key of old stores); two different files are
two contexts, scored separately and put back together per item. Both files
are vetted before any model is built.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import soundfile as sf
from data_samples import story_csv

from s2sbench.cli.main import main
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore
from s2sbench.data.audio import AudioLoader
from s2sbench.data.build import build_dataset
from s2sbench.data.info import dataset_info
from s2sbench.data.task_spec import TaskSpec, load_task_yaml
from s2sbench.data.validate import validate_dataset
from s2sbench.evaluator import evaluate
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import get_template
from s2sbench.scores.item_records import merge_parts
from s2sbench.scores.store import ScoreRecord
from s2sbench.tasks.sample_audio import render_task_audio

EAR = "test_per_row_audio:EarModel"
RATE = 16000


class EarModel:
    """Hears each spoken context through the library's ``AudioLoader``; the score of a
    continuation hashes (decoded samples, continuation). ``heard`` logs every context file
    it encoded, one entry per request; ``reverse`` yields the results last-first."""

    name = "ear"
    heard: ClassVar[list[str]] = []

    def __init__(self, reverse: str = "no", **_runtime: Any) -> None:
        self.reverse = reverse == "yes"
        self.loader = AudioLoader(RATE)

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": self.name}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return "text continuations only" if condition.continuation_is_speech else None

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[tuple[int, list[Any]]]:
        order = range(len(requests) - 1, -1, -1) if self.reverse else range(len(requests))
        for index in order:
            request = requests[index]
            if request.context_audio is not None:
                samples = self.loader.load_one(request.context_audio)
                seed = hashlib.sha256(samples.tobytes()).hexdigest()
                EarModel.heard.append(Path(request.context_audio).name)
            else:
                seed = request.text_context
            scores = []
            for cont in request.continuations:
                d = hashlib.sha256(f"{seed}|{cont}".encode()).digest()
                scores.append(ContinuationScore(-(1 + d[0] / 25.5), 1 + d[1] % 4))
            yield index, scores


class ExplodingModel(EarModel):
    """Building it is loading a model: a test fails (exit 1) if that happens before the data
    is checked."""

    def __init__(self, **_runtime: Any) -> None:
        raise RuntimeError("the model was loaded before the audio was checked")


def tone(path: Path, freq: float = 220.0, seconds: float = 0.5) -> Path:
    t = np.arange(int(seconds * RATE)) / RATE
    sf.write(str(path), 0.3 * np.sin(2 * np.pi * freq * t), RATE, subtype="PCM_16")
    return path


def story_task(root: Path) -> Path:
    """Two stories (uttids 0-3), one tone per row; a story's two rows hold the same bytes."""
    rows = []
    for k in range(2):
        first = f"Story {k} starts. It goes on."
        rows.append({"uttid": 2 * k, "first": first, "last": f"Right end {k}."})
        rows.append({"uttid": 2 * k + 1, "first": first, "last": f"Wrong end {k}."})
    root.mkdir(parents=True)
    (root / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "task.yaml").write_text(
        "name: rows\nkind: story\nlanguage: en\njsonl: data.jsonl\naudio_dir: audio\n"
    )
    (root / "audio").mkdir()
    for uttid in range(4):
        tone(root / "audio" / f"{uttid}.wav", freq=200 + 100 * (uttid // 2))
    return root / "task.yaml"


def samples(task: Path, out: Path, **model_args: str) -> list[dict[str, Any]]:
    EarModel.heard.clear()
    evaluate(
        EAR,
        model_args or None,
        [str(task)],
        "s2t",
        output_path=out,
        log_samples=True,
        progress=False,
    )
    text = (out / "samples_rows_s2t.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_a_changed_odd_row_wav_changes_only_the_wrong_ending(tmp_path: Path) -> None:
    task = story_task(tmp_path / "set")
    audio = task.parent / "audio"
    same = samples(task, tmp_path / "same")
    assert EarModel.heard == ["0.wav", "2.wav"]  # identical pairs: one encode per story

    tone(audio / "1.wav", freq=777)
    differ = samples(task, tmp_path / "differ")
    assert sorted(EarModel.heard) == ["0.wav", "1.wav", "2.wav"]
    logprob = [(r["item_id"], r["continuation_index"], r["logprob_sum"]) for r in differ]
    assert logprob[0] == (same[0]["item_id"], 0, same[0]["logprob_sum"])  # right ending: 0.wav
    assert logprob[1][2] != same[1]["logprob_sum"]  # wrong ending: now heard after 1.wav
    assert differ[2:] == same[2:]  # the other story is untouched
    assert "1.wav" in differ[1]["prompt"] and "0.wav" in differ[0]["prompt"]

    # The wrong ending scores exactly as if the whole story were heard after 1.wav's content.
    (audio / "0.wav").write_bytes((audio / "1.wav").read_bytes())
    both_new = samples(task, tmp_path / "both_new")
    assert differ[1]["logprob_sum"] == both_new[1]["logprob_sum"]
    assert differ[0]["logprob_sum"] != both_new[0]["logprob_sum"]


def test_identical_files_keep_one_request_and_the_old_score_key(tmp_path: Path) -> None:
    task = load_task_yaml(story_task(tmp_path / "set")).load()
    item = task.items[0]
    assert item.context_audios == (item.context_audio, item.context_audio.with_name("1.wav"))
    old = replace(task, items=tuple(replace(i, context_audios=None) for i in task.items))
    template = get_template("reference")
    for condition in (Condition.S2T, Condition.T2T):
        new_requests = build_requests(task, condition, template)
        old_requests = build_requests(old, condition, template)
        assert [r.key for r in new_requests] == [r.key for r in old_requests]
        assert len(new_requests) == 2 and all(r.part is None for r in new_requests)
        # The key as stores written before per-row audio hold it, computed here by hand.
        for request, story in zip(new_requests, task.items):
            audio = ""
            if condition.context_is_speech:
                audio = hashlib.sha256(story.context_audio.read_bytes()).hexdigest()[:20]
            parts = [task.name, task.version, condition.value, template.fingerprint()]
            parts += [story.content_hash(), audio]
            blob = json.dumps([str(p) for p in parts], ensure_ascii=False).encode()
            assert request.key == hashlib.sha256(blob).hexdigest()[:32]


def test_a_store_resumes_and_rescoring_touches_only_the_changed_story(tmp_path: Path) -> None:
    task = story_task(tmp_path / "set")
    out = tmp_path / "out"
    samples(task, out)
    tone(task.parent / "audio" / "1.wav", freq=777)
    samples(task, out)
    config = json.loads((out / "results.json").read_text())["config"]
    assert (config["scored_now"], config["reused_from_store"]) == (2, 1)
    assert EarModel.heard == ["0.wav", "1.wav"]  # story 0's two parts; story 2 from the store
    samples(task, out)
    config = json.loads((out / "results.json").read_text())["config"]
    assert (config["scored_now"], EarModel.heard) == (0, [])


def test_scores_do_not_depend_on_the_order_the_parts_arrive(tmp_path: Path) -> None:
    task = story_task(tmp_path / "set")
    tone(task.parent / "audio" / "1.wav", freq=777)
    tone(task.parent / "audio" / "3.wav", freq=555)
    forward = samples(task, tmp_path / "forward")
    backward = samples(task, tmp_path / "backward", reverse="yes")
    assert forward == backward
    results = [
        json.loads((tmp_path / d / "results.json").read_text()) for d in ("forward", "backward")
    ]
    assert results[0]["results"] == results[1]["results"]

    spec = load_task_yaml(task)
    parts = build_requests(spec.load(), Condition.S2T, get_template("reference"))
    assert [r.part for r in parts] == [(0,), (1,), (0,), (1,)]
    records = [
        ScoreRecord.from_request(r, [ContinuationScore(-1.0 - i, 2)]) for i, r in enumerate(parts)
    ]
    whole = merge_parts(records[:2])
    shuffled = records[:2]
    random.Random(3).shuffle(shuffled)
    assert merge_parts(shuffled) == merge_parts(list(reversed(records[:2]))) == whole
    assert whole.losses == [0.5, 1.0] and whole.gold == 0 and whole.part is None


BROKEN_ODD = {
    "missing": (lambda p: p.unlink(), "not found"),
    "corrupt": (lambda p: p.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk"), "not a readable audio"),
    "empty": (lambda p: p.write_bytes(b""), "empty"),
}


@pytest.mark.parametrize("case", list(BROKEN_ODD))
def test_a_bad_odd_row_wav_is_one_error_before_the_model_loads(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    task = story_task(tmp_path / "set")
    out = tmp_path / "out"
    samples(task, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    change, expect = BROKEN_ODD[case]
    change(task.parent / "audio" / "3.wav")
    capsys.readouterr()
    model = "test_per_row_audio:ExplodingModel"
    argv = ["run", "--model", model, "--tasks", str(task), "--conditions", "t2t,s2t"]
    code = main([*argv, "--output-path", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "audio/3.wav" in err and expect in err and " -- " in err
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before


def test_data_validate_and_info_follow_the_per_row_rule(tmp_path: Path) -> None:
    root = story_task(tmp_path / "set").parent
    info = dataset_info(root)
    assert (info["context_audio"], info["context_files"]) == (2, 4)  # not counted twice
    assert info["total_duration_s"] == pytest.approx(1.0)
    tone(root / "audio" / "1.wav", freq=777, seconds=0.25)
    info = dataset_info(root)
    assert (info["context_audio"], info["context_files"]) == (3, 4)
    assert info["total_duration_s"] == pytest.approx(1.25)
    (root / "audio" / "3.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    (root / "audio" / "1.wav").unlink()
    found = [str(p) for p in validate_dataset(root)]
    assert "audio/1.wav: missing audio file (record uttid 1)" in found
    assert any(p.startswith("audio/3.wav: corrupt audio") for p in found)
    assert dataset_info(root)["context_files_missing"] == 1


class ToneTTS:
    """A stand-in TTS: a tone whose pitch follows the text (fast and deterministic)."""

    name = "tone"
    calls = 0

    def info(self) -> dict[str, Any]:
        return {"backend": "tone", "voice": "-", "version": "1", "sample_rate": RATE}

    def synthesize(self, text: str, lang: str) -> tuple[np.ndarray, int]:
        ToneTTS.calls += 1
        t = np.arange(RATE // 2) / RATE
        freq = 150 + sum(text.encode()) % 300
        return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), RATE


def test_the_sample_suite_writes_every_rows_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))
    task = story_task(tmp_path / "set")
    spec = TaskSpec("rows", "story", "en", task.parent / "data.jsonl", builtin=True)
    ToneTTS.calls = 0
    report = render_task_audio(spec, ToneTTS())
    names = sorted(p.name for p in report.audio_dir.glob("*.wav"))
    assert names == ["0.wav", "1.wav", "2.wav", "3.wav"] and ToneTTS.calls == 2
    folder = report.audio_dir
    assert (folder / "0.wav").read_bytes() == (folder / "1.wav").read_bytes()
    assert (folder / "2.wav").read_bytes() != (folder / "0.wav").read_bytes()
    loaded = spec.with_audio_dir(folder).load()
    assert loaded.items[1].context_audios == (folder / "2.wav", folder / "3.wav")
    (folder / "3.wav").unlink()  # a cache from before every row had its file
    again = render_task_audio(spec, ToneTTS())
    assert (again.rendered, again.skipped, ToneTTS.calls) == (0, 1, 2)
    assert (folder / "3.wav").read_bytes() == (folder / "2.wav").read_bytes()


def test_built_in_samples_are_heard_once_per_story(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))
    EarModel.heard.clear()
    evaluate(EAR, None, ["sample_story_en"], "s2t", limit=3, progress=False)
    assert EarModel.heard == ["0.wav", "2.wav", "4.wav"]


def test_data_build_writes_both_rows_and_a_run_hears_each_story_once(tmp_path: Path) -> None:
    out = tmp_path / "built"
    build_dataset(story_csv(tmp_path, "en"), out, kind="story", lang="en", jobs=1, progress=False)
    audio = out / "audio"
    assert sorted(p.name for p in audio.glob("*.wav")) == [f"{i}.wav" for i in range(6)]
    for k in (0, 2, 4):
        assert (audio / f"{k}.wav").read_bytes() == (audio / f"{k + 1}.wav").read_bytes()
    EarModel.heard.clear()
    evaluate(EAR, None, [str(out / "task.yaml")], "s2t", progress=False)
    assert EarModel.heard == ["0.wav", "2.wav", "4.wav"]
