"""bpmnlint itself (`npx bpmnlint@11`, the recommended rules), for the tests that compare with it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def run_bpmnlint(files: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Lint the files; skipped without Node.js, a failure when REQUIRE_TOOLS=1 (CI)."""
    npx = shutil.which("npx")
    if npx is None or shutil.which("node") is None:
        if os.environ.get("REQUIRE_TOOLS") == "1":
            pytest.fail("node/npx are required (REQUIRE_TOOLS=1) to run bpmnlint")
        pytest.skip("node/npx not installed: bpmnlint not run")
    (cwd / ".bpmnlintrc").write_text('{"extends": "bpmnlint:recommended"}\n', encoding="utf-8")
    return subprocess.run(
        [npx, "--yes", "bpmnlint@11", *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,  # the first run downloads bpmnlint
        check=False,
    )
