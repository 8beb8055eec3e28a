"""A tiny document model rendered to Markdown or to one self-contained HTML file.

The report is built once as a list of blocks (headings, paragraphs, tables,
images, preformatted text) and rendered twice, so the Markdown and HTML
reports cannot drift apart. HTML embeds images as base64 ``data:`` URIs
(SVG when the figure has one: sharp at any zoom, a third of the PNG's size)
and references nothing outside the file (one file to mail or attach);
Markdown links them relative to the report, because common Markdown viewers
refuse ``data:`` images.

Text may quote raw model and ASR output, so it is never trusted as markup:
HTML escapes every string; Markdown escapes HTML characters in text and
table cells and fences preformatted text with more backticks than it holds.
"""

from __future__ import annotations

import base64
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class TableBlock:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Image:
    path: Path  # PNG, linked from Markdown
    alt: str
    vector: Path | None = None  # SVG of the same figure, inlined in HTML


@dataclass(frozen=True)
class Pre:
    text: str


Block = Heading | Para | TableBlock | Image | Pre

CSS = (
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;"
    "color:#222;line-height:1.4}.table{overflow-x:auto}table{border-collapse:collapse;"
    "margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;"
    "vertical-align:top}td{white-space:nowrap}td.long{white-space:normal;overflow-wrap:anywhere;"
    "min-width:18rem}th{background:#f3f3f3}figure{margin:1rem 0}img{width:100%;max-width:56rem}"
    "pre{background:#f6f6f6;padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere}"
)
LONG_CELL = 40  # characters: longer cells (paths, model args) wrap, shorter ones (numbers) never


def _md_text(text: str) -> str:
    """Text shown as text: ``<`` and entity-like ``&`` escaped, so a quoted tag is never markup.

    (``>`` is left alone, so ``t2t->s2t`` stays readable in the source, and
    escaped only at the start of a line, where it would open a quote.)
    """
    text = re.sub(r"&(?=#?\w+;)", "&amp;", text).replace("<", "&lt;")
    return re.sub(r"^>", "\\>", text, flags=re.M)


def _md_cell(text: str) -> str:
    return _md_text(text).replace("|", "\\|").replace("\n", " ")


def _md_fence(text: str) -> str:
    """A code fence longer than any backtick run in ``text``, so it cannot close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_markdown(blocks: list[Block], report_path: Path) -> str:
    """Markdown with images linked relative to ``report_path``'s folder."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {_md_text(block.text)}\n")
        elif isinstance(block, Para):
            out.append(_md_text(block.text) + "\n")
        elif isinstance(block, TableBlock):
            out.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
            out.append("|" + "|".join("---" for _ in block.header) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
        elif isinstance(block, Image):
            rel = os.path.relpath(block.path, report_path.parent)
            alt = re.sub(r"[\[\]]", "", block.alt)
            target = Path(rel).as_posix()
            if re.search(r"[\s()<>]", target):
                target = f"<{target}>"
            out.append(f"![{alt}]({target})\n")
        elif isinstance(block, Pre):
            fence = _md_fence(block.text)
            out.append(f"{fence}text\n" + block.text.rstrip("\n") + f"\n{fence}\n")
    return "\n".join(out)


def _html_cell(text: str) -> str:
    long = " class='long'" if len(text) > LONG_CELL else ""
    return f"<td{long}>{html.escape(text)}</td>"


def render_html(blocks: list[Block], title: str) -> str:
    """One HTML file with every image inlined."""
    out = [
        "<!DOCTYPE html>",
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
    ]
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            out.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, TableBlock):
            out.append(
                "<div class='table'><table><thead><tr>"
                + "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
                + "</tr></thead><tbody>"
            )
            out += ["<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in block.rows]
            out.append("</tbody></table></div>")
        elif isinstance(block, Image):
            source = block.vector or block.path
            mime = "image/svg+xml" if source.suffix == ".svg" else "image/png"
            data = base64.b64encode(source.read_bytes()).decode("ascii")
            out.append(
                f"<figure><img alt='{html.escape(block.alt, quote=True)}' "
                f"src='data:{mime};base64,{data}'></figure>"
            )
        elif isinstance(block, Pre):
            out.append(f"<pre>{html.escape(block.text)}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
