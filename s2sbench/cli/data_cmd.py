"""``s2sbench data build|validate|info|export|import``: thin wrappers over ``s2sbench.data``.

Only argparse is imported at start-up; each command imports its module when
it runs, so ``s2sbench --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{value}'") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{value}'")
    return number


def add_data_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``data`` and its subcommands; each sets ``func(args) -> exit code``."""
    data = subparsers.add_parser("data", help="build, check, describe and convert datasets")
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    b = sub.add_parser(
        "build",
        help="text items -> a spoken dataset (JSONL + WAV + manifest)",
        description="Render a StoryCloze/CMMLU CSV, a statement file or a "
        "reference JSONL to speech in the S2SBench layout (see docs/data.md).",
    )
    b.add_argument("source", type=Path, help=".csv (StoryCloze, CMMLU, statements) or .jsonl")
    b.add_argument("--kind", required=True, choices=("story", "choice"))
    b.add_argument("--lang", required=True, choices=("en", "zh"))
    b.add_argument("--out", required=True, type=Path, help="output dataset folder")
    b.add_argument("--tts", default="espeak", help="TTS backend: espeak, hf, or module:object")
    b.add_argument(
        "--voice", default=None, help="voice (espeak: en-us, cmn...; hf: model folder or hub id)"
    )
    b.add_argument("--tts-args", default=None, help="extra backend options, key=value,...")
    b.add_argument("--sample-rate", type=_positive_int, default=16000)
    b.add_argument(
        "--speak",
        choices=("context", "all"),
        default="context",
        help="'all' also renders every continuation as <id>_c<k>.wav",
    )
    b.add_argument(
        "--format",
        dest="fmt",
        default="auto",
        choices=("auto", "storycloze", "cmmlu", "statements", "jsonl"),
    )
    b.add_argument("--name", default=None, help="task name (default: the output folder's name)")
    b.add_argument("--subject", default=None, help="subject of choice items (CMMLU: file name)")
    b.add_argument("--loudness", type=float, default=None, help="target RMS level in dBFS")
    b.add_argument("--jobs", type=_positive_int, default=None, help="processes (default: cores)")
    b.add_argument("--overwrite", action="store_true", help="replace a different dataset in --out")
    b.add_argument("--no-progress", action="store_true")
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("validate", help="list every problem of a dataset; exit code 2 if any")
    v.add_argument("dir", type=Path)
    v.add_argument(
        "--sample-rate",
        type=_positive_int,
        default=None,
        help="expected rate (default: the manifest's, else the most common)",
    )
    v.set_defaults(func=cmd_validate)

    i = sub.add_parser("info", help="counts, durations, languages and subjects of a dataset")
    i.add_argument("dir", type=Path)
    i.add_argument("--json", action="store_true", help="print JSON instead of lines")
    i.set_defaults(func=cmd_info)

    e = sub.add_parser("export", help="dataset folder -> Hugging Face parquet folder")
    e.add_argument("dir", type=Path)
    e.add_argument("--out", required=True, type=Path)
    e.add_argument("--split", default="test")
    e.set_defaults(func=cmd_export)

    m = sub.add_parser("import", help="Hugging Face parquet (file or folder) -> dataset folder")
    m.add_argument("src", type=Path)
    m.add_argument("--out", required=True, type=Path)
    m.add_argument(
        "--kind",
        choices=("story", "choice"),
        default=None,
        help="only for parquet not written by s2sbench",
    )
    m.add_argument("--lang", choices=("en", "zh"), default=None)
    m.add_argument("--overwrite", action="store_true")
    m.set_defaults(func=cmd_import)


def cmd_build(args: argparse.Namespace) -> int:
    from s2sbench.data.build import build_dataset
    from s2sbench.data.render import DEFAULT_LOUDNESS_DBFS
    from s2sbench.models.registry import parse_model_args

    result = build_dataset(
        args.source,
        args.out,
        kind=args.kind,
        lang=args.lang,
        tts=args.tts,
        voice=args.voice,
        tts_args=parse_model_args(args.tts_args),
        sample_rate=args.sample_rate,
        speak=args.speak,
        jobs=args.jobs,
        name=args.name,
        subject=args.subject,
        fmt=args.fmt,
        overwrite=args.overwrite,
        progress=not args.no_progress,
        loudness_dbfs=DEFAULT_LOUDNESS_DBFS if args.loudness is None else args.loudness,
    )
    counts = result.manifest["counts"]
    print(
        f"built {result.out}: {counts['items']} items, {counts['context_wavs']} context + "
        f"{counts['continuation_wavs']} continuation wavs ({result.synthesized} written, "
        f"{result.reused} kept)"
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from s2sbench.data.validate import validate_dataset

    problems = validate_dataset(args.dir, args.sample_rate)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {args.dir}", file=sys.stderr)
        return 2
    print(f"{args.dir}: no problems")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from s2sbench.data.info import dataset_info, format_info

    info = dataset_info(args.dir)
    print(json.dumps(info, ensure_ascii=False, indent=1) if args.json else format_info(info))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from s2sbench.data.parquet_io import export_parquet

    print(f"wrote {export_parquet(args.dir, args.out, args.split)}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from s2sbench.data.parquet_io import import_parquet

    out = import_parquet(
        args.src, args.out, overwrite=args.overwrite, kind=args.kind, lang=args.lang
    )
    print(f"wrote {out}")
    return 0
