"""Entry point of the ``odek`` console script.

Commands live in their own modules. Each module listed in :data:`COMMAND_MODULES` exposes
``register(subparsers)``, which adds its parser(s) to the root's sub-parsers and sets a
``handler`` default: a callable taking the parsed :class:`argparse.Namespace` and returning
the exit code. Adding a command is one line here. A module should import anything heavy
(HTTP clients, the agent) inside its handler, so that ``odek schedule ls`` stays quick.

Exit codes: 0 success; 2 bad usage or invalid input (:class:`odek.errors.InputError`,
argparse usage errors); 1 any other :class:`odek.errors.OdekError` or an operating-system
error; 130 interrupted. Every error is one line on stderr: ``odek: <message>``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from odek import __version__
from odek.cli.parsing import CommandParser, Handler, help_handler
from odek.errors import InputError, OdekError

#: Modules that add top-level commands; each exposes ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "odek.cli.schedule",
    "odek.cli.config_cmd",
    "odek.cli.run",
    "odek.cli.telegram",
    "odek.cli.health",
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> CommandParser:
    """The root ``odek`` parser with every command of :data:`COMMAND_MODULES` registered."""
    parser = CommandParser(
        prog="odek",
        description="Run LLM-agent tasks on cron schedules and deliver the results.",
        epilog="Run 'odek <command> --help' for a command's flags and examples.",
    )
    parser.add_argument("--version", action="version", version=f"odek {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="<command>")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    parser.set_defaults(handler=help_handler(parser))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``odek`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    try:
        args = build_parser().parse_args(argv)
        handler: Handler = args.handler
        return handler(args)
    except SystemExit as exit_:  # argparse's --help and --version
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    except KeyboardInterrupt:
        print("odek: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`odek schedule ls | head`); say nothing more to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except InputError as err:
        print(f"odek: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OdekError as err:
        print(f"odek: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        print(f"odek: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_FAILURE
