"""Check a folder of diagrams drawn by other tools and count what the process owner would be told.

    python bench/foreign_diagrams.py DIR [DIR …] [--show N]

Every `.bpmn` file below the folders is checked as a draft would be (app.process.validation.validate,
with the app's forms); nothing in them runs. The report counts files accepted, files refused, and the
messages by their English id, and lists the files whose only problems are *generic*: a message
without an element, or the XML parser's or SpiffWorkflow's own text passed through. The corpus is not
part of the repository (third-party files); docs/process-model.md says which one was used and the
figures it gave.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.forms import read_form_files  # noqa: E402
from app.process import validation  # noqa: E402

PASSED_THROUGH = {"%(detail)s", "not well-formed XML: %(detail)s"}  # another library's text, not ours


def generic(found: list) -> bool:
    return all(problem.element_id is None or problem.message.text in PASSED_THROUGH for problem in found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--show", type=int, default=10, help="how many generic files to list")
    args = parser.parse_args()
    forms = read_form_files()
    files = sorted(path for folder in args.folders for path in folder.rglob("*.bpmn"))
    messages: Counter[str] = Counter()
    accepted, generic_files, slowest = 0, [], (0.0, "")
    for path in files:
        started = time.perf_counter()
        found = validation.validate(path.read_bytes(), forms)
        slowest = max(slowest, (time.perf_counter() - started, path.name))
        if not found:
            accepted += 1
            continue
        messages.update(problem.message.text for problem in found)
        if generic(found):
            generic_files.append((path, found))
    print(f"{len(files)} files: {accepted} accepted, {len(files) - accepted} refused, "
          f"{len(generic_files)} with only generic messages; slowest {slowest[0]:.2f} s ({slowest[1]})")  # fmt: skip
    print("\nmessages by id (files may have several):")
    for text, count in messages.most_common():
        print(f"{count:6}  {text[:110]}")
    for path, found in generic_files[: args.show]:
        print(f"\n{path}:")
        for problem in found[:3]:
            print(f"    {problem}"[:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
