"""Speech -> discrete units, the TWIST / SpiritLM way: HuBERT layer features, nearest
k-means centroid per frame, consecutive repeats removed.

A unit LM is only as comparable as its tokenizer: the same audio must give the
same units whatever batch it arrives in, so each file is encoded alone (no
padding ever reaches the convolutional front end) and its units are cached by
path. The centroids come from a ``.npy`` file of shape ``(k, hidden size)``
(e.g. exported from a fitted k-means); the layer is counted as in
``output_hidden_states`` (0 = the projected CNN features, ``n`` = the output of
transformer layer ``n``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from s2sbench.core.checkpoint_files import resolve_local_dir, weights_fingerprint
from s2sbench.core.errors import ModelError
from s2sbench.core.hf_loading import load_pretrained
from s2sbench.data.audio import read_audio

SAMPLE_RATE = 16000


def deduplicate(units: list[int]) -> list[int]:
    """Consecutive repeats collapsed to one (``[3, 3, 5, 3] -> [3, 5, 3]``)."""
    return [u for i, u in enumerate(units) if i == 0 or u != units[i - 1]]


def load_centroids(path: str | Path, dim: int) -> Any:
    """The ``(k, dim)`` float32 centroid matrix, or a ModelError naming what is wrong."""
    import numpy as np

    path = Path(path)
    try:
        centroids = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot read centroids ({exc})",
            where=str(path),
            hint="give centroids=<a .npy file of shape (k, hidden size)>",
        ) from None
    if centroids.ndim != 2 or centroids.shape[1] != dim or centroids.shape[0] < 2:
        raise ModelError(
            f"centroids have shape {centroids.shape}, expected (k >= 2, {dim})",
            where=str(path),
            hint="the centroids must be fitted on features of this HuBERT model and layer",
        )
    return centroids.astype("float32")


class SpeechUnitEncoder:
    """HuBERT features of one layer -> nearest-centroid ids -> (optionally) deduplicated."""

    def __init__(
        self,
        hubert: str,
        centroids: str,
        layer: int,
        dedup: bool = True,
        device: str | None = None,
        allow_pickle: bool = False,
        allow_weight_mismatch: bool = False,
    ):
        import torch
        from transformers import HubertModel

        self.hubert_path = str(hubert)
        self.model = load_pretrained(
            HubertModel,
            hubert,
            dtype="float32",
            device=device,
            allow_pickle=allow_pickle,
            allow_weight_mismatch=allow_weight_mismatch,
        )
        n_layers = self.model.config.num_hidden_layers
        if not 0 <= int(layer) <= n_layers:
            raise ModelError(
                f"layer {layer} is outside 0..{n_layers}",
                where=self.hubert_path,
                hint="pick the layer the centroids were fitted on",
            )
        self.layer = int(layer)
        self.dedup = bool(dedup)
        self.centroids_path = Path(centroids)
        table = load_centroids(centroids, self.model.config.hidden_size)
        self.centroids = torch.from_numpy(table).to(self.model.device)
        self.k = int(table.shape[0])
        self._centroid_sha = hashlib.sha256(table.tobytes()).hexdigest()[:20]
        self._normalise = self._wants_normalised(hubert)
        self._cache: dict[Path, list[int]] = {}
        self.encoded = 0  # files actually run through HuBERT (the rest came from the cache)

    @staticmethod
    def _wants_normalised(hubert: str) -> bool:
        """Whether the checkpoint's feature extractor normalises the waveform (HuBERT-large)."""
        import json

        local = resolve_local_dir(hubert)
        config = local / "preprocessor_config.json" if local else None
        if config is None or not config.is_file():
            return False
        return bool(json.loads(config.read_text()).get("do_normalize", False))

    def fingerprint(self) -> dict[str, Any]:
        return {
            "hubert": self.hubert_path,
            "hubert_weights": weights_fingerprint(resolve_local_dir(self.hubert_path)),
            "layer": self.layer,
            "centroids": str(self.centroids_path),
            "centroids_sha256": self._centroid_sha,
            "k": self.k,
            "dedup": self.dedup,
        }

    def units(self, path: str | Path) -> list[int]:
        """The unit sequence of one audio file (cached by path)."""
        import torch

        path = Path(path)
        if path not in self._cache:
            samples = torch.from_numpy(read_audio(path, SAMPLE_RATE)).float()
            if self._normalise:
                samples = (samples - samples.mean()) / torch.sqrt(samples.var() + 1e-7)
            with torch.inference_mode():
                out = self.model(samples[None].to(self.model.device), output_hidden_states=True)
                frames = out.hidden_states[self.layer][0].float()
                ids = torch.cdist(frames, self.centroids).argmin(-1).tolist()
            self.encoded += 1
            self._cache[path] = deduplicate(ids) if self.dedup else ids
        return self._cache[path]
