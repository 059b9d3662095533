"""The ``marketing-op`` command line: the product's commands first, grouped, in the README's
names; Django's own under ``marketing-op django``; the scripts' calls still working."""

from __future__ import annotations

import subprocess

import pytest

from marketing_op.cli import DJANGOS_SHOWN, GROUPS, main, product_commands
from tests.servers import COMMAND

SHOWN = product_commands() | DJANGOS_SHOWN
PRODUCT_COMMANDS = [name for _, commands in GROUPS for name, _ in commands if name in SHOWN]
DJANGO_ONLY = ["startproject", "flush", "createsuperuser", "dbshell", "changepassword", "shell"]


def help_screen(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *arguments], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("arguments", [(), ("--help",), ("-h",), ("help",)])
def test_the_first_screen_lists_the_products_commands_grouped_one_line_each(arguments):
    """Issue 28: about 40 commands, the product's eight among startproject and flush."""
    done = help_screen(*arguments)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) <= 24
    assert lines[0].startswith("Usage: marketing-op COMMAND")
    groups: dict[str, list[str]] = {}
    for heading in ("Serve:", "Data:", "People:"):
        block = lines[lines.index(heading) + 1 :]
        block = block[: block.index("")]
        groups[heading] = [line.split()[0] for line in block]
        assert all(len(line.split()) > 3 for line in block)  # a name, then what it does
    assert groups["Serve:"] == ["serve", "migrate"]
    assert groups["Data:"] == ["import", "export", "load-demo", "generate-demo"]
    assert groups["People:"][:3] == ["create-organization", "create-user", "revoke-tokens"]
    listed = [name for names in groups.values() for name in names]
    assert sorted(listed) == sorted(product_commands() | {"migrate"})  # each command, once
    words = done.stdout.split()
    assert not [name for name in DJANGO_ONLY if name in words]
    assert "marketing-op django --help" in done.stdout


def test_djangos_commands_are_listed_under_django():
    done = help_screen("django", "--help")

    assert done.returncode == 0, done.stderr
    assert "Type 'marketing-op django help <subcommand>'" in done.stdout
    assert all(name in done.stdout.split() for name in DJANGO_ONLY)


@pytest.mark.parametrize(
    "arguments",
    [
        ["django", "migrate", "--help"],
        ["migrate", "--help"],
        ["collectstatic", "--help"],
        ["django", "check", "--help"],
    ],
)
def test_djangos_commands_run_under_django_and_those_that_scripts_call_at_the_top(
    arguments, capsys
):
    """`make run`, the Dockerfile and the image's entrypoint call `marketing-op migrate`
    and `collectstatic`."""
    with pytest.raises(SystemExit) as done:
        main(["marketing-op", *arguments])

    assert done.value.code == 0
    program = " ".join(["marketing-op", *arguments[:-1]])
    assert capsys.readouterr().out.startswith(f"usage: {program} ")


@pytest.mark.parametrize(
    "typed", [*PRODUCT_COMMANDS, "create_user", "create-organisation", "load_demo"]
)
def test_a_commands_usage_line_names_it_as_it_was_typed(typed, capsys):
    """Issue 28: `marketing-op create-user --help` said `usage: marketing-op create_user`."""
    with pytest.raises(SystemExit) as done:
        main(["marketing-op", typed, "--help"])

    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: marketing-op {typed} ")


@pytest.mark.parametrize("command", ["import", "export", "create-user"])
def test_the_organisation_option_is_spelt_both_ways_on_every_command(command, capsys):
    with pytest.raises(SystemExit):
        main(["marketing-op", command, "--help"])

    usage = capsys.readouterr().out

    assert "--organization" in usage
    assert "--organisation" in usage


def test_an_unknown_command_is_named_with_where_to_look():
    done = help_screen("frobnicate")

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "Unknown command: 'frobnicate'",
        "Type 'marketing-op help' for usage.",
    ]
