"""Entry point of the `pixmo` console script.

Each module in `pixmo_cli/commands/` defines `register(subparsers)`, adding one or more
subcommands whose handler is stored as `func` on the parsed namespace. A handler returns an
exit code; it raises `CommandError` with one sentence for bad input. Whatever the mistake
(a bad flag, a missing or unreadable path), the user reads one sentence and an exit code,
never a traceback.
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


class Parser(argparse.ArgumentParser):
    """argparse's own errors (unknown flag, `--steps abc`) as a sentence under the usage line."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {sentence(message)}\n")


def sentence(message: str) -> str:
    """`message` on one line, ending with a full stop."""
    text = " ".join(str(message).split())
    return text if text.endswith((".", "?", "!")) else f"{text}."


def os_error_sentence(error: OSError) -> str:
    """A file-system error as a sentence naming the path: 'out.png: No such file or directory'."""
    reason = error.strerror or str(error)
    return f"{error.filename}: {reason}" if error.filename else reason


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
        print(f"pixmo {args.command}: {sentence(error)}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        # A path the user named that cannot be read or written (a folder given for a file, a
        # missing parent folder, no permission): the commands check the usual ones first.
        print(f"pixmo {args.command}: {sentence(os_error_sentence(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pixmo {args.command}: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
