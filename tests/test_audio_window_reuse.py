"""hf-audio on Gemma 3n (sliding-window + shared-KV cache): context reuse routed per request.

Requests that fit the text model's sliding window share their context's cache
(its T2T stories here), longer ones (its S2T inputs: 188 audio tokens against a
64-token window) are scored as full sequences, and every score equals plain
full-sequence scoring. Gemma 3n's processor needs timm + torchvision: CI stage 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("timm")

import tiny_zoo_models as zoo  # noqa: E402
from zoo_requests import s2t_requests, scores_of, t2t_requests  # noqa: E402

from s2sbench.models.hf_audio import HFAudioLM  # noqa: E402


@pytest.fixture(scope="module")
def gemma3n_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return zoo.make_gemma3n(tmp_path_factory.mktemp("gemma3n"))


def test_gemma3n_shares_contexts_that_fit_its_window(
    gemma3n_dir: Path, zoo_wavs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = s2t_requests(zoo_wavs[:3]) + t2t_requests()
    full = HFAudioLM(str(gemma3n_dir), dtype="float32", batch_size=1, reuse_context=False)
    want = scores_of(full, requests)
    for batch_size in (1, 3, 8):
        for side in ("left", "right"):
            model = HFAudioLM(
                str(gemma3n_dir), dtype="float32", batch_size=batch_size, padding_side=side
            )
            shared_units: list[Any] = []
            passes = model.scorer.token_scorer()
            real = passes.shared_context
            monkeypatch.setattr(
                passes,
                "shared_context",
                lambda u, seen=shared_units, real=real: seen.extend(u) or real(u),
            )
            got = scores_of(model, requests)
            for a, b in zip(got, want, strict=True):
                assert [s.logprob_sum for s in a] == pytest.approx(
                    [s.logprob_sum for s in b], abs=1e-5
                )
            assert model.reuse_context and model._window == 64
            heard = [u for u in shared_units if u.extras is not None]
            assert len(shared_units) == len(t2t_requests()) and not heard
