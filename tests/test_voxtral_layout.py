"""Voxtral's hand-built S2T ids against mistral-common's own chat encoding of one audio.

The adapter cannot use Voxtral's chat template (it needs a user turn), so it
writes ``[BEGIN_AUDIO]`` + ``[AUDIO]`` x n itself. This checks that span, token
by token, against what mistral-common emits for the same audio, read through
the released checkpoints' tokenizer class (``MistralCommonBackend``) on a Tekken
file that mistral-common ships, given Voxtral's special tokens and audio config.
Skipped where mistral-common is not installed (CI's tiny Voxtral uses a BPE).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("mistral_common")

from s2sbench.models.audio_families import voxtral  # noqa: E402

VOXTRAL_SPECIALS = {24: "[AUDIO]", 25: "[BEGIN_AUDIO]", 34: "[TRANSCRIBE]"}
AUDIO = {  # Voxtral's tekken.json audio section: 12.5 tokens/s, 30 s windows
    "sampling_rate": 16000,
    "frame_rate": 12.5,
    "chunk_length_s": 30.0,
    "audio_encoding_config": {"num_mel_bins": 128, "hop_length": 160, "window_size": 400},
}


def tekken_file(directory: Path) -> Path:
    import mistral_common
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    shipped = Path(mistral_common.__file__).parent / "data" / "tekken_240911.json"
    data = json.loads(shipped.read_text())
    data["config"]["version"] = "v7"
    specials = {
        t["rank"]: str(getattr(t["token_str"], "value", t["token_str"]))
        for t in Tekkenizer.DEPRECATED_SPECIAL_TOKENS
    }
    data["special_tokens"] = [
        {"rank": r, "token_str": specials.get(r) or VOXTRAL_SPECIALS.get(r, f"<SPECIAL_{r}>")}
        | {"is_control": True}
        for r in range(data["config"]["default_num_special_tokens"])
    ]
    data["audio"] = AUDIO
    path = directory / "tekken.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("seconds", [2.5, 31.0])
def test_audio_span_matches_mistral_common(tmp_path: Path, seconds: float) -> None:
    import numpy as np
    from mistral_common.protocol.instruct.chunk import AudioChunk, TextChunk
    from mistral_common.protocol.instruct.messages import UserMessage
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.tokens.tokenizers.audio import Audio
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
    from transformers import MistralCommonBackend, VoxtralConfig, WhisperFeatureExtractor

    path = tekken_file(tmp_path)
    samples = np.random.default_rng(0).normal(0, 0.1, int(16000 * seconds)).astype(np.float32)
    chunk = AudioChunk.from_audio(Audio(samples, 16000, "wav"))
    request = ChatCompletionRequest(messages=[UserMessage(content=[chunk, TextChunk(text="Hi")])])
    reference = MistralTokenizer.from_file(str(path)).encode_chat_completion(request).tokens

    class Processor:
        tokenizer = MistralCommonBackend(tokenizer_path=str(path))
        feature_extractor = WhisperFeatureExtractor(feature_size=128)

    ids, tails, audio = voxtral.encode_s2t(
        Processor(), VoxtralConfig(audio_token_id=24), "", [samples], ["Hi"], "test"
    )
    begin = reference.index(25)
    span = reference[begin : begin + len(ids) - 1]
    assert ids[0] == Processor.tokenizer.bos_token_id
    assert ids[1:] == span and reference[begin + len(span)] != 24
    windows = int(np.ceil(seconds / 30))
    assert ids.count(24) == 375 * windows
    assert tuple(audio["input_features"].shape) == (windows, 128, 3000)
    assert tails == [Processor.tokenizer("Hi", add_special_tokens=False)["input_ids"]]
