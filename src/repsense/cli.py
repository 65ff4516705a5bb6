"""The ``repsense`` command line: finds the subcommands in :mod:`repsense.commands`."""

from __future__ import annotations

import os

# The pipeline's matrix products are small and a gateway runs one pipeline per
# sensor: BLAS worker threads would only spin against each other.  Before numpy.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import pkgutil  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from repsense import __version__  # noqa: E402
from repsense.errors import InputError  # noqa: E402

# The order people meet the commands in; anything else follows alphabetically.
ORDER = ("analyze", "replay", "simulate", "scan", "pair", "record", "live", "report",
         "plans", "sessions", "config")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors are bad input too: exit 2, one line
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def command_names() -> list[str]:
    """Every subcommand module in :mod:`repsense.commands`, in display order."""
    import repsense.commands as pkg

    names = [m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    return names


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand registered, or only ``command`` if it names one.

    Registering one command imports only its module: ``repsense analyze`` need
    not load the Bluetooth and MQTT stacks the other commands' options come from.
    """
    parser = _Parser(
        prog="repsense",
        description="Count and time leg-curl, deadlift and glute-bridge reps from a leg-worn "
        "IMU, live over Bluetooth LE or from recordings, and publish them over MQTT.",
    )
    parser.add_argument("--version", action="version", version=f"repsense {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    names = command_names()
    for name in [command] if command in names else names:
        importlib.import_module(f"repsense.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for bad input, with one line on stderr)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # The first argument is the command whenever one is given (the top-level
    # options take no values); --help, --version or a typo get every command.
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"repsense {args.command}: error: {exc}", file=sys.stderr)
        return InputError.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
