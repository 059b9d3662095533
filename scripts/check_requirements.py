"""Fail when requirements/*.txt differ from what uv.lock exports (run `make lock` to fix)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

EXPORTS = {
    "requirements/runtime.txt": ["--no-dev"],
    "requirements/dev.txt": ["--all-groups"],
    "requirements/build.txt": ["--only-group", "build"],
}


def main() -> int:
    uv = Path(sys.executable).parent / "uv"
    stale = []
    for target, flags in EXPORTS.items():
        with tempfile.TemporaryDirectory() as folder:
            fresh = Path(folder) / "export.txt"
            subprocess.run(
                [
                    str(uv),
                    "export",
                    "--quiet",
                    "--frozen",
                    *flags,
                    "--no-emit-project",
                    "-o",
                    str(fresh),
                ],
                check=True,
            )
            lines = [line for line in fresh.read_text().splitlines() if not line.startswith("#")]
            current = Path(target).read_text().splitlines()
            if lines != [line for line in current if not line.startswith("#")]:
                stale.append(target)
    for target in stale:
        print(f"{target} does not match uv.lock: run `make lock`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
