"""Stand-in "remote code" for the plugin tests: tiny models with the public interfaces of
Baichuan-Audio and Kimi-Audio, copied into a checkpoint folder and loaded by
transformers through ``auto_map`` + ``trust_remote_code`` -- the plugins' real path.

Baichuan-like: ``bind_processor(tokenizer, training, relative_path)`` sets
``model.processor``, which parses ``<audio_start_baichuan>{"path": ...}
<audio_end_baichuan>`` (loads the WAV, one audio-pad token per 80 ms frame)
and ``<trainable_start>...<trainable_end>`` (labels = those tokens only),
left-pads the batch and returns ``input_ids, attention_mask, labels, audios,
encoder_length, bridge_length``; the model puts a projection of each frame's
spectrum where its audio-pad tokens are. Kimi-like: two token streams summed at
the input, an audio head and a text head, ``return_dict=False`` gives
``(audio_logits, text_logits)``. Neither is the real model; they exist to test
the plugins' input construction and loss masking.
"""

import json
import os
import re

import numpy as np
import soundfile as sf
import torch
from transformers import BatchFeature, GPT2Config, GPT2LMHeadModel

FRAME_SECONDS = 0.08
SPAN = re.compile(
    r"(<audio_start_baichuan>.*?<audio_end_baichuan>|<trainable_start>.*?<trainable_end>)"
)


class StandInBaichuanConfig(GPT2Config):
    model_type = "standin_baichuan"

    def __init__(self, audio_dim=8, **kwargs):
        self.audio_dim = audio_dim
        super().__init__(**kwargs)


class StandInProcessor:
    def __init__(self, tokenizer, relative_path):
        self.tokenizer = tokenizer
        self.relative_path = relative_path
        ids = tokenizer.convert_tokens_to_ids
        self.start, self.end, self.pad = (
            ids("<audio_start_baichuan>"),
            ids("<audio_end_baichuan>"),
            ids("<audio_pad_baichuan>"),
        )

    def frames(self, path, dim):
        samples, rate = sf.read(os.path.join(self.relative_path, path.lstrip("/")), dtype="float32")
        hop = int(rate * FRAME_SECONDS)
        count = max(1, len(samples) // hop)
        chunks = (
            samples[: count * hop].reshape(count, hop) if len(samples) >= hop else samples[None]
        )
        spectrum = np.abs(np.fft.rfft(chunks, axis=-1))
        bands = np.array_split(spectrum, dim, axis=-1)
        return np.log1p(np.stack([b.mean(-1) for b in bands], -1)).astype(np.float32)

    def __call__(self, texts, dim=8):
        rows, labels, audios = [], [], []
        for text in texts:
            ids, labs = [], []
            for piece in SPAN.split(text):
                if piece.startswith("<audio_start_baichuan>"):
                    body = piece[len("<audio_start_baichuan>") : -len("<audio_end_baichuan>")]
                    feats = self.frames(json.loads(body)["path"], dim)
                    audios.append(feats)
                    ids += [self.start] + [self.pad] * len(feats) + [self.end]
                    labs += [-100] * (len(feats) + 2)
                elif piece.startswith("<trainable_start>"):
                    inner = self.tokenizer(
                        piece[len("<trainable_start>") : -len("<trainable_end>")]
                    )
                    ids += inner["input_ids"]
                    labs += inner["input_ids"]
                elif piece:
                    plain = self.tokenizer(piece)["input_ids"]
                    ids += plain
                    labs += [-100] * len(plain)
            rows.append(ids)
            labels.append(labs)
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        out = {
            "input_ids": torch.tensor([[pad] * (width - len(r)) + r for r in rows]),
            "attention_mask": torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows]),
            "labels": torch.tensor([[-100] * (width - len(r)) + r for r in labels]),
        }
        if audios:
            longest = max(len(a) for a in audios)
            stacked = np.zeros((len(audios), longest, dim), dtype=np.float32)
            for i, a in enumerate(audios):
                stacked[i, : len(a)] = a
            lengths = torch.tensor([len(a) for a in audios])
            out.update(
                audios=torch.from_numpy(stacked), encoder_length=lengths, bridge_length=lengths
            )
        return BatchFeature(out)


class StandInBaichuan(GPT2LMHeadModel):
    config_class = StandInBaichuanConfig

    def __init__(self, config):
        super().__init__(config)
        self.audio_proj = torch.nn.Linear(config.audio_dim, config.n_embd)
        self.post_init()

    def bind_processor(self, tokenizer, training=False, relative_path="/"):
        self.processor = StandInProcessor(tokenizer, relative_path)
        self.pad_id = self.processor.pad

    def forward(
        self, input_ids=None, audios=None, encoder_length=None, bridge_length=None, **kwargs
    ):
        embeds = self.transformer.wte(input_ids)
        if audios is not None:
            frames = self.audio_proj(audios.to(embeds.dtype))
            flat = torch.cat([frames[i, :n] for i, n in enumerate(bridge_length.tolist())])
            slots = (input_ids == self.pad_id)[..., None]
            embeds = embeds.masked_scatter(slots, flat)
        return super().forward(inputs_embeds=embeds, **kwargs)


class StandInKimiaConfig(GPT2Config):
    model_type = "standin_kimia"

    def __init__(
        self,
        kimia_token_offset=0,
        kimia_media_begin=0,
        kimia_media_end=0,
        kimia_text_blank=0,
        **kwargs,
    ):
        self.kimia_token_offset = kimia_token_offset
        self.kimia_media_begin = kimia_media_begin
        self.kimia_media_end = kimia_media_end
        self.kimia_text_blank = kimia_text_blank
        super().__init__(**kwargs)


class StandInKimia(GPT2LMHeadModel):
    config_class = StandInKimiaConfig

    def __init__(self, config):
        super().__init__(config)
        self.text_head = torch.nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        text_input_ids=None,
        position_ids=None,
        whisper_input_feature=None,
        is_continuous_mask=None,
        return_dict=None,
        **kwargs,
    ):
        embeds = self.transformer.wte(input_ids) + self.transformer.wte(text_input_ids)
        hidden = self.transformer(inputs_embeds=embeds, position_ids=position_ids).last_hidden_state
        return self.lm_head(hidden), self.text_head(hidden)
