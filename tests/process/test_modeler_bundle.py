"""The modeler the app serves is what its sources build: `node modeler/build.mjs` into a temporary folder, from the
packages package-lock.json pins, gives byte for byte the files committed under app/static/vendor/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.engine.bpmnlint_cli import ROOT, install_node_tools

VENDOR = ROOT / "app" / "static" / "vendor"
BUILT = ("bpmn-js", "bpmn-modeler")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_committed_modeler_matches_a_rebuild(tmp_path):
    install_node_tools()
    node = shutil.which("node")
    subprocess.run([node, "modeler/build.mjs", str(tmp_path)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    for name in BUILT:
        rebuilt, committed = _files(tmp_path / name), _files(VENDOR / name)
        assert sorted(rebuilt) == sorted(committed), name
        changed = [file for file in rebuilt if rebuilt[file] != committed[file]]
        assert not changed, f"{name}: {changed} differ from a rebuild: run `npm ci && npm run build` and commit"
    assert (VENDOR / "bpmn-modeler" / "modeler.js").stat().st_size < 1_200_000  # minified, without code editors
