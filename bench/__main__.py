"""`make bench`: run every bench/bench_*.py and print one table with the targets."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from bench.common import Result, print_table


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="run the benchmarks whose module name contains one of these")
    parser.add_argument("--quick", action="store_true", help="fewer runs (smoke test)")
    args = parser.parse_args()
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    if args.only:
        names = [n for n in names if any(o in n for o in args.only)]
    results: list[Result] = []
    for name in names:
        print(f"… {name}", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        results += module.run(quick=args.quick)
    print()
    print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
