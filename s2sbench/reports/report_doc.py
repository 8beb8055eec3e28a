"""A tiny document model rendered to Markdown or to one self-contained HTML file.

The report is built once as a list of blocks (headings, paragraphs, tables,
images, preformatted text) and rendered twice, so the Markdown and HTML
reports cannot drift apart. HTML embeds images as base64 ``data:`` URIs
(one file to mail or attach); Markdown links them relative to the report,
because common Markdown viewers refuse ``data:`` images.
"""

from __future__ import annotations

import base64
import html
import os
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
    path: Path
    alt: str


@dataclass(frozen=True)
class Pre:
    text: str


Block = Heading | Para | TableBlock | Image | Pre

CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;"
    "padding:.2rem .5rem;text-align:left}th{background:#f3f3f3}img{max-width:100%}"
    "pre{background:#f6f6f6;padding:.5rem;white-space:pre-wrap}"
)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: list[Block], report_path: Path) -> str:
    """Markdown with images linked relative to ``report_path``'s folder."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {block.text}\n")
        elif isinstance(block, Para):
            out.append(block.text + "\n")
        elif isinstance(block, TableBlock):
            out.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
            out.append("|" + "|".join("---" for _ in block.header) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
        elif isinstance(block, Image):
            rel = os.path.relpath(block.path, report_path.parent)
            out.append(f"![{block.alt}]({Path(rel).as_posix()})\n")
        elif isinstance(block, Pre):
            out.append("```text\n" + block.text.rstrip("\n") + "\n```\n")
    return "\n".join(out)


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
                "<table><thead><tr>"
                + "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
                + "</tr></thead><tbody>"
            )
            out += [
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in block.rows
            ]
            out.append("</tbody></table>")
        elif isinstance(block, Image):
            data = base64.b64encode(block.path.read_bytes()).decode("ascii")
            out.append(
                f"<figure><img alt='{html.escape(block.alt, quote=True)}' "
                f"src='data:image/png;base64,{data}'></figure>"
            )
        elif isinstance(block, Pre):
            out.append(f"<pre>{html.escape(block.text)}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
