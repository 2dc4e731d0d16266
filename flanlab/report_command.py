"""``flanlab report <sweep or output dir>`` (or ``python -m flanlab.report_command``): tables and figures for a grid."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flanlab.analysis.console import print_report
from flanlab.analysis.html_report import write_html
from flanlab.analysis.sweep_report import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flanlab report", description=__doc__)
    parser.add_argument("root", help="a sweep folder, or any folder holding cell folders with results.json")
    parser.add_argument("--out", help="where to write tables and figures (default: ROOT)")
    parser.add_argument("--no-figures", action="store_true", help="write tables only")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--html", action=argparse.BooleanOptionalAction, default=True,
                        help="write the self-contained report.html (default; --no-html to skip)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if not root.is_dir():
        print(f"flanlab report: error: {root} is not a folder", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else root
    report = write_report(root, out, figures=not args.no_figures, n_resamples=args.resamples)
    if args.html:
        report.html = write_html(report, root, out)
    print_report(report, root, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
