"""The manual: the README stays a short front door whose links lead somewhere, the API
reference page lists every operation of docs/openapi.yaml, the configuration page every
setting, and the site's strict build (``make docs``) fails on a broken link."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
REFERENCE_PAGE = ROOT / "docs" / "api" / "reference.md"
SETTINGS = ROOT / "src" / "marketing_op" / "config" / "settings.py"
CONFIGURATION_PAGE = ROOT / "docs" / "operations" / "configuration.md"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# [text](target) outside code; targets with a scheme or only an anchor are not files.
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def readme_prose() -> str:
    """The README without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_readme_reads_in_five_minutes():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: move detail into docs/"
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[:3] == ["## Two commands", "## A tour of the API", "## A tour of the dashboard"]


def test_the_readme_says_up_front_what_make_test_installs_and_uses():
    prose = readme_prose()
    two_commands = prose.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    for needed in ("apt-get", "chromium", "pgbouncer", "PostgreSQL", "Redis"):
        assert needed in two_commands, f"'## Two commands' does not mention {needed}"


def test_every_relative_link_of_the_readme_leads_to_a_file():
    targets = [
        target.split("#", 1)[0]
        for target in MARKDOWN_LINK.findall(readme_prose())
        if "://" not in target and not target.startswith(("#", "mailto:"))
    ]
    assert targets, "the README links to no page of the manual"
    missing = sorted({target for target in targets if not (ROOT / target).exists()})
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_the_reference_page_lists_every_operation_of_the_document():
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in HTTP_METHODS
        if method in item
    }
    listed = set(
        re.findall(r"^\| `([A-Z]+)` \| `([^`]+)` \|", REFERENCE_PAGE.read_text(), flags=re.M)
    )
    assert documented - listed == set(), (
        f"add to the table of {REFERENCE_PAGE.relative_to(ROOT)}: {sorted(documented - listed)}"
    )
    assert listed - documented == set(), (
        f"not in docs/openapi.yaml, remove from the table: {sorted(listed - documented)}"
    )


def environment_variables_read_by_settings() -> set[str]:
    """Names passed to ``os.environ.get``/``os.environ[...]`` or the ``_env_*`` helpers."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text(encoding="utf-8"))):
        argument = None
        if isinstance(node, ast.Call) and node.args:
            function = node.func
            name = (
                function.attr
                if isinstance(function, ast.Attribute)
                else getattr(function, "id", "")
            )
            if name == "get" or name.startswith("_env_"):
                argument = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            argument = node.slice
        if isinstance(argument, ast.Constant) and re.fullmatch(
            r"[A-Z][A-Z0-9_]+", str(argument.value)
        ):
            names.add(argument.value)
    return names


def test_the_configuration_page_lists_every_setting_and_only_those():
    read = environment_variables_read_by_settings()
    assert {"DATABASE_URL", "SECRET_KEY", "REDIS_URL"} <= read  # the parser finds them
    first_cells = re.findall(r"^\| ([^|]+) \|", CONFIGURATION_PAGE.read_text(), flags=re.M)
    listed = {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}
    page = CONFIGURATION_PAGE.relative_to(ROOT)
    assert read - listed == set(), f"settings.py reads these, add them to {page}: {read - listed}"
    assert listed - read == set(), f"{page} lists these, settings.py reads none: {listed - read}"


def build_site(root: Path) -> subprocess.CompletedProcess[str]:
    """``make docs``'s build; not ``--quiet``, under which MkDocs counts no warning."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(root / "site")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """mkdocs.yml and docs/ copied, so that a test may break a page."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("_incoming"))
    return tmp_path


@pytest.mark.parametrize(
    "broken",
    [
        "See [the planner](guide/planner.md).",
        "See [the missing section](guide/reports.md#no-such-section).",
    ],
    ids=["missing page", "missing anchor"],
)
def test_the_strict_build_fails_on_a_broken_link(site_copy: Path, broken: str):
    index = site_copy / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + f"\n{broken}\n", encoding="utf-8")
    result = build_site(site_copy)
    assert result.returncode != 0, "mkdocs build --strict passed with a broken link"
    assert "index.md" in result.stdout + result.stderr


def test_the_strict_build_fails_on_a_page_missing_from_the_nav(site_copy: Path):
    (site_copy / "docs" / "orphan.md").write_text("# Nobody links here\n", encoding="utf-8")
    result = build_site(site_copy)
    assert result.returncode != 0, "mkdocs build --strict passed with a page outside the nav"
    assert "orphan.md" in result.stdout + result.stderr
