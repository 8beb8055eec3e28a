"""Reports as users get them: one self-contained HTML file, per-checkpoint tables, safe examples.

The "ASR" of the model below hears every context as a fixed, hostile transcript
(a slur stand-in, markup and a Markdown fence), as a misrecognition can: it
must stay out of reports unless examples are asked for, and then appear only
escaped and labelled as raw output.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_sweep import make_salt_run

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore
from s2sbench.evaluator import evaluate
from s2sbench.reports.examples import RAW_TEXT_WARNING
from s2sbench.reports.report import write_report
from s2sbench.reports.report_stats import TESTS_EXPLAINED, ci_and_p_disagree
from s2sbench.sweeps.run_sweep import sweep

SLUR = "XSLURTOKENX"
HOSTILE = f"{SLUR} <script>alert(1)</script> <img src=http://example.com/x.png> ```"


class HostileEars:
    """Reads well, hears badly, and logs a hostile transcript for every heard context."""

    name = "hostile-ears"

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": self.name}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return None if condition in (Condition.T2T, Condition.S2T) else "text continuations only"

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, request in enumerate(requests):
            heard = request.context_text is None
            extra = {"transcript": HOSTILE} if heard else {}
            right_wins = not heard or int(request.item_id) % 4 == 0
            yield (
                index,
                [
                    ContinuationScore(-1.0 if (i == request.gold) == right_wins else -2.0, 1, extra)
                    for i in range(len(request.continuations))
                ],
            )


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile") / "run"
    evaluate(
        HostileEars(),
        tasks="sample_story_en",
        conditions="t2t,s2t",
        limit=12,
        output_path=out,
        log_samples=True,
        progress=False,
    )
    return out


@pytest.fixture(scope="module")
def salt_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep")
    run = make_salt_run(root / "run", tag="h")
    sweep(
        str(run / "ckpt_*"),
        root / "sweep",
        model="test_sweep:FileSaltModel",
        tasks="sample_story_en,sample_cmmlu",
        conditions="t2t,s2t",
        limit=12,
        progress=False,
    )
    return root / "sweep"


class _Fetches(HTMLParser):
    """What a browser would fetch: src/href/srcset attributes of real tags, CSS url()/@import."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data") and value is not None:
                self.refs.append(value)

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.refs += re.findall(r"url\(([^)]*)\)", data) + re.findall(r"@import", data)


def _external_references(text: str) -> list[str]:
    parser = _Fetches()
    parser.feed(text)
    assert not {"script", "link", "iframe", "object", "embed"} & set(parser.tags)
    return [r for r in parser.refs if not r.startswith("data:")]


def test_html_is_one_file_with_every_image_inlined(salt_sweep: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    report = write_report([salt_sweep], out_dir / "sweep.html", "html")
    assert sorted(p.name for p in out_dir.iterdir()) == ["sweep.html"]  # no sweep_files/
    text = report.read_text(encoding="utf-8")
    assert _external_references(text) == []
    assert "<script" not in text.lower() and "<link" not in text.lower()
    images = re.findall(r"<img [^>]*src='data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(images) == 6  # accuracy, loss and gap for two tasks
    import base64

    for data in images:
        svg = base64.b64decode(data).decode("utf-8")
        assert svg.rstrip().endswith("</svg>")
        assert re.search(r"""href=["'](?!#)""", svg) is None  # only links inside the figure


def test_markdown_keeps_its_plots_beside_it(salt_sweep: Path, tmp_path: Path) -> None:
    report = write_report([salt_sweep], tmp_path / "sweep.md", "md")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report.read_text(encoding="utf-8"))
    assert len(links) == 6 and all(link.startswith("sweep_files/") for link in links)
    assert all((tmp_path / link).is_file() for link in links)


def test_sweep_report_has_a_row_per_checkpoint(salt_sweep: Path, tmp_path: Path) -> None:
    text = write_report([salt_sweep], tmp_path / "r.html", "html").read_text(encoding="utf-8")
    assert ">Per checkpoint</h3>" in text
    index = json.loads((salt_sweep / "sweep.json").read_text())
    for entry in index["checkpoints"]:
        results = json.loads((salt_sweep / entry["name"] / "results.json").read_text())
        for task in ("sample_story_en", "sample_cmmlu"):
            d = results["degradation"][task]["t2t->s2t"]
            cells = [
                task,
                "t2t-&gt;s2t",
                str(entry["step"]),
                str(d["n_items"]),
                f"{100 * d['acc_t2t']:.1f}",
                f"{100 * d['acc_s2t']:.1f}",
                f"{100 * d['gap']:+.1f}",
                f"[{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]",
            ]
            row = "".join(f"<td>{c}</td>" for c in cells)
            assert row in text, row
    assert TESTS_EXPLAINED.split(":")[0] in text


def test_tests_disagree_marks_the_borderline_case() -> None:
    assert ci_and_p_disagree(0.004, 0.2, 0.07)  # the CI excludes 0 while McNemar says p = 0.07
    assert ci_and_p_disagree(-0.01, 0.2, 0.03)
    assert not ci_and_p_disagree(0.01, 0.2, 0.01)
    assert not ci_and_p_disagree(-0.1, 0.2, 0.6)
    assert "p = 0.07" in TESTS_EXPLAINED


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_transcripts_stay_out_unless_examples_are_asked_for(
    hostile_run: Path, tmp_path: Path, fmt: str
) -> None:
    samples = (hostile_run / "samples_sample_story_en_s2t.jsonl").read_text(encoding="utf-8")
    assert SLUR in samples  # the raw output is there to leak
    text = write_report([hostile_run], tmp_path / f"r.{fmt}", fmt).read_text(encoding="utf-8")
    assert SLUR not in text
    assert "items disagree" in text and "--examples N" in text


def test_examples_on_request_are_escaped_and_labelled_html(
    hostile_run: Path, tmp_path: Path
) -> None:
    text = write_report([hostile_run], tmp_path / "r.html", "html", examples_per_task=2).read_text(
        encoding="utf-8"
    )
    assert SLUR in text
    assert html.escape(RAW_TEXT_WARNING) in text
    assert "heard (raw ASR transcript): " in text
    assert "<script" not in text and "<img src=http" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert _external_references(text) == []


def test_examples_on_request_are_fenced_in_markdown(hostile_run: Path, tmp_path: Path) -> None:
    text = write_report([hostile_run], tmp_path / "r.md", "md", examples_per_task=2).read_text(
        encoding="utf-8"
    )
    assert RAW_TEXT_WARNING in text
    # the transcript's own ``` cannot close the block: the fence is longer
    blocks = re.findall(r"^(`{4,})text\n(.*?)\n\1$", text, re.S | re.M)
    assert len(blocks) == 2 and all(HOSTILE in body for _, body in blocks)
    outside = re.sub(r"^(`{4,})text\n.*?\n\1$", "", text, flags=re.S | re.M)
    assert SLUR not in outside and "<script" not in outside
