"""A tiny, real training run to sweep: the README's demo plot comes from here.

What the checkpoints are, honestly: a GPT-2 of 0.75 million parameters
trained from scratch on CPU for 200 steps, on synthetic English
stories generated below from templates (everyday five-sentence stories
whose ending follows from the first four). None of the evaluation text is
in the training data (checked at build time). Checkpoints are saved as
``ckpt_<n>_<step>_demo`` like the reference training runs.

The model is text-only, so the demo sweeps it as the LM of a cascade:
``SphinxThenLM`` below transcribes the spoken context with the bundled
pocketsphinx en-US recogniser (cached on disk), then scores
``transcript + joiner + continuation`` with the checkpoint; T2T scores the
written context. The gap between the two curves is what the recogniser
loses, measured at every training step.

    python benchmarks/make_demo_checkpoints.py --out demo_run
    PYTHONPATH=benchmarks s2sbench sweep --checkpoints 'demo_run/ckpt_*' \
        --model make_demo_checkpoints:SphinxThenLM --model-args dtype=float32 \
        --tasks sample_story_en --conditions t2t,s2t --output-path demo_sweep
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore

NAMES = [
    ("Anna", "she"),
    ("Ben", "he"),
    ("Carla", "she"),
    ("David", "he"),
    ("Ella", "she"),
    ("Frank", "he"),
    ("Grace", "she"),
    ("Henry", "he"),
    ("Iris", "she"),
    ("Jack", "he"),
    ("Lucy", "she"),
    ("Mark", "he"),
    ("Nora", "she"),
    ("Oscar", "he"),
    ("Rosa", "she"),
    ("Sam", "he"),
    ("Tina", "she"),
    ("Victor", "he"),
    ("Wendy", "she"),
    ("Leo", "he"),
]
# Each story: four context sentences then the ending; "|" separates interchangeable variants.
STORIES = [
    [
        "{N} was very hungry after a long day at work.|{N} had not eaten anything since breakfast.",
        "{P} looked in the fridge, but it was almost empty.",
        "So {p} walked to the shop and bought bread, cheese and tomatoes.|So {p} went to the "
        "market to buy some vegetables.",
        "Back home {p} cooked a simple dinner.|At home {p} made a big sandwich.",
        "{N} ate all of it and felt much better.|After the meal {N} was happy and full.",
    ],
    [
        "{N} wanted to grow flowers in the garden.",
        "{P} bought some seeds in the spring.",
        "Every morning {p} watered the soil.|{P} watered them every evening after work.",
        "After a few weeks small green plants came up.",
        "By summer the garden was full of bright flowers.|Soon {N} picked the first flowers for "
        "the table.",
    ],
    [
        "{N} had an important test on Friday.|{N} had a big exam at school.",
        "{P} studied every evening for a week.|{P} read the book and practised every day.",
        "On the day of the test {p} felt calm and ready.",
        "{P} answered every question carefully.",
        "A week later {N} learned that {p} had passed with a good mark.|{N} got the best grade "
        "in the class.",
    ],
    [
        "{N} lost {h} keys on the way home.|{N} could not find {h} keys in {h} bag.",
        "{P} looked everywhere in the street.",
        "Then {p} called {h} sister for help.",
        "{H} sister came with the spare key.",
        "{N} thanked her and finally went inside.|{N} was glad to be home at last.",
    ],
    [
        "It was raining hard when {N} left the house.|Dark clouds filled the sky in the morning.",
        "{N} had forgotten {h} umbrella.",
        "By the time {p} reached the bus stop {p} was wet.",
        "A kind woman shared her umbrella with {o}.",
        "{N} thanked her and smiled all the way to work.|{N} decided to always carry an umbrella.",
    ],
    [
        "{N} found a small cat outside the door.",
        "The cat was cold and hungry.",
        "{P} put out a bowl of milk by the step.",
        "The cat drank it all and began to purr.",
        "{N} decided to keep the cat.|From that day the cat lived with {N}.",
    ],
    [
        "{N}'s bike had a flat tyre.|The chain of {N}'s bike was broken.",
        "{P} could not ride it to school.",
        "{H} father showed {o} how to fix it.",
        "Together they worked on it all afternoon.",
        "The next day {N} rode the bike to school again.|Soon the bike was as good as new.",
    ],
    [
        "{N} moved to a new town in the winter.",
        "At first {p} did not know anyone.",
        "One day a neighbour invited {o} to play football.",
        "{N} played well and laughed a lot.",
        "After that they became good friends.|Soon {N} had many friends in the town.",
    ],
    [
        "It was {N}'s birthday on Sunday.",
        "{H} friends planned a surprise party.",
        "They baked a cake and hung colourful balloons.",
        "When {N} came home everyone shouted.",
        "{N} was surprised and very happy.|{N} thanked them for the best birthday ever.",
    ],
    [
        "{N} wanted to buy a new guitar.",
        "{P} saved money from {h} job for many months.",
        "Finally {p} had enough money.",
        "{P} went to the music shop and chose a red guitar.",
        "That night {N} played songs for {h} family.|{N} practised every day and got better.",
    ],
]


def story(rng: random.Random) -> str:
    name, pron = rng.choice(NAMES)
    fill = {
        "N": name,
        "P": pron.capitalize(),
        "p": pron,
        "h": "his" if pron == "he" else "her",
        "H": "His" if pron == "he" else "Her",
        "o": "him" if pron == "he" else "her",
    }
    lines = [rng.choice(slot.split("|")).format(**fill) for slot in rng.choice(STORIES)]
    return " ".join(lines)


def corpus(n_stories: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [story(rng) for _ in range(n_stories)]


def check_no_eval_text(texts: list[str]) -> None:
    """Refuse a corpus that contains any sentence of the built-in evaluation tasks."""
    from s2sbench.tasks.registry import BUILTIN_TASKS

    blob = "\n".join(texts)
    for spec in BUILTIN_TASKS.values():
        for item in spec.load().items:
            for text in (item.context_text, *item.continuations):
                for sentence in text.split(". "):
                    if len(sentence) > 20 and sentence.strip(". ") in blob:
                        raise SystemExit(f"training text contains evaluation text: {sentence!r}")


def train(out: Path, steps: int, save_at: Sequence[int], seed: int) -> list[Path]:
    """Train the tokenizer and the GPT-2, saving ``ckpt_<n>_<step>_demo`` at ``save_at``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    texts = corpus(6000, seed)
    check_no_eval_text(texts)
    specials = {
        "bos_token": "<bos>",
        "eos_token": "<eos>",
        "pad_token": "<pad>",
        "unk_token": "<unk>",
    }
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=1500,
            special_tokens=list(specials.values()),
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, **specials)
    ids: list[int] = []
    for text in texts:
        ids += tokenizer(text)["input_ids"] + [tokenizer.eos_token_id]
    block = 128
    data = torch.tensor(ids[: len(ids) // block * block]).view(-1, block)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(
        GPT2Config(
            vocab_size=len(tokenizer),
            n_positions=256,
            n_embd=128,
            n_layer=3,
            n_head=4,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    generator = torch.Generator().manual_seed(seed)
    saved = []
    for step in range(steps + 1):
        if step in save_at:
            ckpt = out / f"ckpt_{len(saved) + 1}_{step}_demo"
            model.save_pretrained(ckpt, safe_serialization=True)
            tokenizer.save_pretrained(ckpt)
            saved.append(ckpt)
        if step == steps:
            break
        batch = data[torch.randint(0, len(data), (16,), generator=generator)]
        for group in optimiser.param_groups:
            group["lr"] = 2e-3 * min(1.0, (step + 1) / 30)
        loss = model(input_ids=batch, labels=batch).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 50 == 0:
            print(f"step {step}: training loss {loss.item():.3f}")
    return saved


class SphinxThenLM:
    """Demo cascade: pocketsphinx en-US ASR -> a causal LM checkpoint (``pretrained``)."""

    name = "demo-sphinx-lm"

    def __init__(self, pretrained: str, dtype: str = "float32", **runtime: Any):
        from s2sbench.models.hf_causal import HFCausalLM
        from s2sbench.models.sphinx_asr import SphinxTranscriber
        from s2sbench.models.sphinx_decoder import decoder_config

        keep = {k: v for k, v in runtime.items() if k in ("device", "batch_size")}
        self.lm = HFCausalLM(pretrained=pretrained, dtype=dtype, **keep)
        self.asr_config = decoder_config("fast")
        self.transcriber = SphinxTranscriber(self.asr_config)

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": self.name, "lm": self.lm.fingerprint(), "asr": self.asr_config}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if lang != "en":
            return "the demo cascade (en-US pocketsphinx, English-trained LM) is English only"
        return "text continuations only" if condition.continuation_is_speech else None

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        heard = [Path(r.context_audio) for r in requests if r.context_text is None]
        transcripts = self.transcriber.transcribe_many(heard) if heard else {}
        texts = [
            r
            if r.context_text is not None
            else dataclasses.replace(
                r,
                condition=Condition.T2T,
                prefix="",
                context_audio=None,
                context_text=transcripts[Path(r.context_audio)],
            )  # type: ignore[arg-type]
            for r in requests
        ]
        for index, scores in self.lm.score(texts):
            if requests[index].context_text is None:  # keep what was heard, for reports
                heard = texts[index].context_text or ""
                scores = [
                    ContinuationScore(s.logprob_sum, s.n_tokens, {**s.extra, "transcript": heard})
                    for s in scores
                ]
            yield index, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="demo_run", help="where the checkpoints go")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--save-at", default="0,25,50,100,200")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    saved = train(Path(args.out), args.steps, [int(s) for s in args.save_at.split(",")], args.seed)
    print("\n".join(str(p) for p in saved))


if __name__ == "__main__":
    main()
