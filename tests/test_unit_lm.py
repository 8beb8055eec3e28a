"""unit-lm on the built-in English stories, spoken by espeak: S2S and T2S with a tiny random
HuBERT, centroids and LMs; scores equal a hand-built masked forward, batching does not
matter, the audio does, and unsupported condition/model pairs are refused clearly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")

from tiny_unit_models import (  # noqa: E402
    LAYER,
    UNIT_TOKEN,
    hubert_frames,
    make_centroids,
    make_hubert,
    make_unit_lm,
)

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.data.audio import read_audio  # noqa: E402
from s2sbench.data.layout import task_yaml_text  # noqa: E402
from s2sbench.data.render import DEFAULT_LOUDNESS_DBFS, render_wav  # noqa: E402
from s2sbench.data.task_spec import load_task_yaml
from s2sbench.data.tts.base import get_tts  # noqa: E402
from s2sbench.models.speech_units import deduplicate  # noqa: E402
from s2sbench.models.unit_lm import UnitLM  # noqa: E402
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import get_template  # noqa: E402
from s2sbench.tasks.registry import BUILTIN_TASKS

TOL = 1e-5
K = 24
N_STORIES = 3


@pytest.fixture(scope="session")
def spoken_task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first built-in English stories as a task dir: JSONL, task.yaml, spoken context
    ``<uttid>.wav`` of each row and spoken continuations ``<id>_c<k>.wav`` (espeak-ng, 16 kHz)."""
    root = tmp_path_factory.mktemp("spoken_stories")
    lines = BUILTIN_TASKS["sample_story_en"].jsonl.read_text(encoding="utf-8").splitlines()
    (root / "data.jsonl").write_text("\n".join(lines[: 2 * N_STORIES]) + "\n", encoding="utf-8")
    (root / "task.yaml").write_text(task_yaml_text("spoken_stories", "story", "en"))
    spec = load_task_yaml(root / "task.yaml")
    audio = spec.audio_dir
    audio.mkdir(parents=True, exist_ok=True)
    tts = get_tts("espeak")
    for item in dataclasses.replace(spec, audio_dir=None).load().items:
        texts = {f"{uttid}.wav": item.context_text for uttid in item.meta["uttids"]}  # every row
        texts.update({f"{item.id}_c{k}.wav": c for k, c in enumerate(item.continuations)})
        for name, text in texts.items():
            samples, rate = tts.synthesize(text, "en")
            (audio / name).write_bytes(render_wav(samples, rate, 16000, DEFAULT_LOUDNESS_DBFS))
    return root / "task.yaml"


@pytest.fixture(scope="session")
def parts(tmp_path_factory: pytest.TempPathFactory, spoken_task: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("unit_lm")
    hubert = make_hubert(root / "hubert")
    waves = [read_audio(p, 16000) for p in sorted(spoken_task.parent.glob("audio/*_c*.wav"))]
    return {
        "hubert": hubert,
        "centroids": make_centroids(root / "km.npy", hubert, waves, K),
        "joint": make_unit_lm(root / "joint", K, joint=True),
        "units_only": make_unit_lm(root / "units_only", K, joint=False),
    }


def unit_lm(parts: dict[str, Path], lm: str = "joint", **kwargs) -> UnitLM:
    return UnitLM(
        pretrained=str(parts[lm]),
        hubert=str(parts["hubert"]),
        centroids=str(parts["centroids"]),
        layer=LAYER,
        dtype="float32",
        **kwargs,
    )


@pytest.fixture(scope="session")
def model(parts: dict[str, Path]) -> UnitLM:
    return unit_lm(parts, batch_size=4)


def requests_for(spoken_task: Path, condition: Condition) -> list[ContextRequest]:
    task = load_task_yaml(spoken_task).load()
    assert all(item.continuation_audio for item in task.items)
    return build_requests(task, condition, get_template("reference"))


def run(model: UnitLM, requests: list[ContextRequest]) -> list[list]:
    out = dict(model.score(requests))
    assert sorted(out) == list(range(len(requests)))
    return [out[i] for i in range(len(requests))]


def reference_units(parts: dict[str, Path], path: Path, tokenizer) -> list[int]:
    """Units computed here, independently: numpy nearest centroid, then dedup, as LM ids."""
    frames = hubert_frames(parts["hubert"], read_audio(path, 16000))
    centroids = np.load(parts["centroids"])
    nearest = ((frames[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(-1).tolist()
    return [tokenizer.convert_tokens_to_ids(UNIT_TOKEN.format(u)) for u in deduplicate(nearest)]


def masked_logprob_sum(logits, labels) -> tuple[float, int]:
    """Sum of log p(label) over the positions whose label is not -100 (shifted by one), and
    their count: the explicit-label-mask reference every adapter is compared with."""
    targets = labels[0, 1:]
    keep = targets != -100
    logprobs = logits[0, :-1].float().log_softmax(-1)[keep]
    picked = logprobs.gather(-1, targets[keep][:, None]).double()
    return float(picked.sum()), int(keep.sum())


def hand_built(parts, model: UnitLM, request: ContextRequest) -> list[tuple[float, int]]:
    """Full input built here, one forward per continuation, labels = continuation units only."""
    import torch

    tok = model.tokenizer
    marker = tok.convert_tokens_to_ids
    full, plain = tok("a")["input_ids"], tok("a", add_special_tokens=False)["input_ids"]
    lead = full[: len(full) - len(plain)]  # what the tokenizer itself puts first (BOS or none)
    if request.context_text is None:
        context = [*lead, marker("[SPEECH]")]
        context += reference_units(parts, request.context_audio, tok)
    else:
        text = tok(request.text_context, add_special_tokens=False)["input_ids"]
        context = [*lead, marker("[TEXT]"), *text, marker("[SPEECH]")]
    out = []
    for path in request.continuation_audio:
        ids = torch.tensor([context + reference_units(parts, path, tok)])
        labels = ids.clone()
        labels[:, : len(context)] = -100
        with torch.no_grad():
            out.append(masked_logprob_sum(model.model(input_ids=ids).logits, labels))
    return out


@pytest.mark.parametrize("condition", [Condition.S2S, Condition.T2S])
def test_a_scores_equal_hand_built_masked_forward(parts, model, spoken_task, condition) -> None:
    requests = requests_for(spoken_task, condition)
    for request, scores in zip(requests, run(model, requests)):
        for score, (logprob, n_tokens) in zip(scores, hand_built(parts, model, request)):
            assert score.n_tokens == n_tokens > 3
            assert score.logprob_sum == pytest.approx(logprob, abs=TOL)


@pytest.mark.parametrize("condition", [Condition.S2S, Condition.T2S])
def test_b_batch_size_one_and_four_agree(parts, model, spoken_task, condition) -> None:
    single = unit_lm(parts, batch_size=1)
    requests = requests_for(spoken_task, condition)
    for a, b in zip(run(model, requests), run(single, requests)):
        assert [s.n_tokens for s in a] == [s.n_tokens for s in b]
        assert all(abs(x.logprob_sum - y.logprob_sum) <= TOL for x, y in zip(a, b))


def test_c_changing_the_audio_changes_the_score(model, spoken_task) -> None:
    s2s = requests_for(spoken_task, Condition.S2S)
    swapped = dataclasses.replace(s2s[0], context_audio=s2s[1].context_audio)
    a, b = run(model, [s2s[0], swapped])
    assert [s.n_tokens for s in a] == [s.n_tokens for s in b]
    assert all(abs(x.logprob_sum - y.logprob_sum) > 1e-4 for x, y in zip(a, b))
    t2s = requests_for(spoken_task, Condition.T2S)[0]
    flipped = dataclasses.replace(t2s, continuation_audio=t2s.continuation_audio[::-1])
    first, second = run(model, [t2s, flipped])
    assert first[0].logprob_sum == pytest.approx(second[1].logprob_sum, abs=TOL)
    assert first[0].logprob_sum != pytest.approx(second[0].logprob_sum, abs=1e-4)


def test_each_audio_file_is_encoded_once(parts, spoken_task) -> None:
    fresh = unit_lm(parts, batch_size=2)
    run(fresh, requests_for(spoken_task, Condition.S2S) + requests_for(spoken_task, Condition.T2S))
    assert fresh.encoder.encoded == N_STORIES * 3  # one context + two continuations each


def test_unsupported_pairs_are_refused_with_a_reason(parts, model, spoken_task) -> None:
    units_only = unit_lm(parts, "units_only")
    assert "S2S only" in units_only.unsupported_reason(Condition.T2S, "en")
    assert units_only.unsupported_reason(Condition.S2S, "en") is None
    for lm in (model, units_only):
        for condition in (Condition.T2T, Condition.S2T):
            assert "spoken continuations only" in lm.unsupported_reason(condition, "en")
    with pytest.raises(ModelError, match="S2S only"):
        run(units_only, requests_for(spoken_task, Condition.T2S))
    assert run(units_only, requests_for(spoken_task, Condition.S2S))[0][0].n_tokens > 3


def test_mismatched_centroids_units_or_layer_are_load_errors(parts, tmp_path) -> None:
    wide = tmp_path / "wide.npy"
    np.save(wide, np.zeros((K + 8, 32), dtype=np.float32))
    with pytest.raises(ModelError, match=r"no token '\[Hu24\]'"):
        unit_lm({**parts, "centroids": wide})
    flat = tmp_path / "flat.npy"
    np.save(flat, np.zeros((K, 7), dtype=np.float32))
    with pytest.raises(ModelError, match=r"shape \(24, 7\), expected"):
        unit_lm({**parts, "centroids": flat})
    with pytest.raises(ModelError, match="layer 6 is outside 0..2"):
        UnitLM(pretrained=str(parts["joint"]), hubert=str(parts["hubert"]), centroids=str(wide))


def test_fingerprint_names_every_part(model) -> None:
    fp = model.fingerprint()
    assert fp["adapter"] == "unit-lm" and fp["weights_sha256"]
    assert fp["units"]["k"] == K and fp["units"]["layer"] == LAYER
    assert fp["units"]["centroids_sha256"] and fp["units"]["hubert_weights"]["weights_sha256"]


def test_evaluate_end_to_end_as_a_plugin(parts, spoken_task, tmp_path, monkeypatch) -> None:
    import s2sbench

    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))
    args = {
        "pretrained": str(parts["joint"]),
        "hubert": str(parts["hubert"]),
        "centroids": str(parts["centroids"]),
        "layer": LAYER,
        "dtype": "float32",
    }
    result = s2sbench.evaluate(
        model="s2sbench.models.unit_lm:UnitLM",
        model_args=args,
        tasks=[str(spoken_task)],
        conditions=["t2t", "s2s", "t2s"],
        progress=False,
        output_path=tmp_path / "run",
    )
    for condition in ("s2s", "t2s"):
        records = result.records("spoken_stories", condition)
        assert len(records) == N_STORIES
        assert all(len(r.scores) == 2 and r.scores[0].n_tokens > 3 for r in records)
    assert "spoken continuations only" in str(result.skipped)
    assert result.config["model_fingerprint"]["adapter"] == "unit-lm"
