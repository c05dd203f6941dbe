"""Entry point of the `pixmo` console script.

Each module in `pixmo_cli/commands/` defines `register(subparsers)`, adding one or more
subcommands whose handler is stored as `func` on the parsed namespace. A handler returns an
exit code; it raises `CommandError` with one sentence for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from pixmo_cli import commands


class CommandError(Exception):
    """Bad input or a failed precondition: printed as one sentence, exit code 2."""

    exit_code = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pixmo",
        description="PixMo Studio: collect spoken captions and points, export PixMo datasets, train Molmo.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CommandError as error:
        print(f"pixmo {args.command}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"pixmo {args.command}: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
