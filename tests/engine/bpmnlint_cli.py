"""bpmnlint itself (the recommended rules, the version package-lock.json pins), for the tests that compare with it;
and the Node.js packages installed from package-lock.json, for those tests and the modeler build's."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BPMNLINT = ROOT / "node_modules" / ".bin" / "bpmnlint"
INSTALLED = ROOT / "node_modules" / ".package-lock.json"  # npm's record of what it installed


def run_bpmnlint(files: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Lint the files; skipped without Node.js, a failure when REQUIRE_TOOLS=1 (CI)."""
    install_node_tools()
    (cwd / ".bpmnlintrc").write_text('{"extends": "bpmnlint:recommended"}\n', encoding="utf-8")
    return subprocess.run(
        [str(BPMNLINT), *map(str, files)], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def install_node_tools() -> None:
    """`npm ci` from the committed package-lock.json, once (again only when the lock file changes)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        if os.environ.get("REQUIRE_TOOLS") == "1":
            pytest.fail("node/npm are required (REQUIRE_TOOLS=1) to run bpmnlint")
        pytest.skip("node/npm not installed: bpmnlint not run")
    lock = ROOT / "package-lock.json"
    # One test process installs at a time (pytest-xdist runs several): `npm ci` deletes node_modules first,
    # so another's bpmnlint would vanish under it. `npm ci` never writes the lock file it is locked on.
    with lock.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if BPMNLINT.exists() and INSTALLED.exists() and INSTALLED.stat().st_mtime >= lock.stat().st_mtime:
            return
        command = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=300)
