"""The ``marketing-op`` command: the product's commands, grouped, with Django's own under
``marketing-op django``.

``marketing-op`` (or ``--help``) lists the product's commands, one line each, without
loading Django. A command runs under the name it was typed with, dashes or underscores
(``create-user`` and ``create_user`` alike; ``create-organisation`` too), and its usage line
shows that name. Django's commands (``migrate``, ``check``, ``shell``, ...) are listed by
``marketing-op django --help`` and run as ``marketing-op django NAME``; the ones that scripts
call at the top level (``marketing-op migrate``, ``collectstatic``) still run there.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PROGRAM = "marketing-op"

GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Serve",
        (
            ("serve", "serve the API and the dashboard (Ctrl-C stops it; PORT picks the port)"),
            ("migrate", "create or update the database's tables (before the first serve)"),
        ),
    ),
    (
        "Data",
        (
            ("import", "import measurements from a CSV file (or -), all or nothing"),
            ("export", "export measurements or a report to a CSV or Parquet file"),
            ("load-demo", "the demo organisation, its login and its measurements"),
            ("generate-demo", "demo measurements as a CSV file for import"),
        ),
    ),
    (
        "People",
        (
            ("create-organization", "create an organisation: a customer and its own data"),
            ("create-user", "create a user of an organisation (password from stdin or prompt)"),
            ("revoke-tokens", "end every token and session of a user"),
            ("clear-sessions", "remove expired dashboard sessions (schedule it hourly)"),
        ),
    ),
)
"""The first screen: what a user of the product runs, by group, in the README's names (of
these, the commands that this installation has, and ``DJANGOS_SHOWN``)."""

DJANGOS_SHOWN = {"migrate"}

ALIASES = {"create_organisation": "create_organization"}
"""Other spellings of a command's name (after dashes become underscores)."""


def command_name(typed: str) -> str:
    """The Django command that ``typed`` names: dashes as underscores, British spellings."""
    name = typed.replace("-", "_")
    return ALIASES.get(name, name)


def product_commands() -> set[str]:
    """The names of the product's own commands, found without loading Django."""
    package = Path(__file__).parent
    return {
        found.stem.replace("_", "-")
        for found in package.glob("*/management/commands/*.py")
        if not found.name.startswith("_")
    }


def main_help() -> str:
    shown = product_commands() | DJANGOS_SHOWN
    groups = [
        (group, [(name, line) for name, line in commands if name in shown])
        for group, commands in GROUPS
    ]
    width = max(len(name) for _, commands in groups for name, _ in commands) + 2
    lines = [
        f"Usage: {PROGRAM} COMMAND [OPTIONS]     ({PROGRAM} COMMAND --help: its options)",
        "",
    ]
    for group, commands in groups:
        lines.append(f"{group}:")
        lines += [f"  {name.ljust(width)}{line}" for name, line in commands]
        lines.append("")
    lines += [
        f"Django's own commands (check, shell, dbshell, ...): {PROGRAM} django --help",
        "Examples:",
        f"  {PROGRAM} import run-2024-05.csv --organisation acme",
        f"  {PROGRAM} export report --organisation acme --dimensions channel -o report.csv",
        f"  PORT=8001 {PROGRAM} serve",
    ]
    return "\n".join(lines)


def package_version() -> str:
    try:
        return version(PROGRAM)
    except PackageNotFoundError:  # pragma: no cover - run from a source tree without install
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    arguments = list(sys.argv if argv is None else argv)[1:]
    first = arguments[0] if arguments else "--help"
    if first in ("-h", "--help") or arguments == ["help"]:
        sys.stdout.write(main_help() + "\n")
        return
    if first == "--version":
        sys.stdout.write(f"{PROGRAM} {package_version()}\n")
        return
    if first == "django":
        program, arguments = f"{PROGRAM} django", arguments[1:]
    else:
        program = PROGRAM
    try:
        _run([program, *arguments])
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise SystemExit(130) from None


def _run(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketing_op.config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import ManagementUtility

    class Commands(ManagementUtility):
        """Django's dispatcher, finding a command by any of its spellings."""

        def fetch_command(self, subcommand: str) -> Any:
            return super().fetch_command(command_name(subcommand))

    try:
        Commands(argv).execute()
    except ImproperlyConfigured as error:
        sys.stderr.write(f"{PROGRAM}: the configuration is not valid: {error}\n")
        raise SystemExit(1) from None
