#!/usr/bin/python3
"""docs/benchmarks.md survives bench/compare/run.sh rewriting it.

The compare driver rewrites the whole file and keeps, verbatim, only the sections listed in its
KEPT_SECTIONS (each between a "<!-- NAME:begin -->" and a "<!-- NAME:end -->" marker); other
scripts and hand-written notes own those. This checks that:
- every marker opens and closes once, in order, with no section inside another;
- every marked section of the file is one the driver keeps, and every kept section is there;
- from the first kept section to "## Raw output", nothing but blank lines lies outside the
  marked sections (text there would be lost at the next compare run);
- the driver's own splice of the file gives back every kept section unchanged.

usage: benchmark_sections_test.py REPO
"""
import os
import re
import sys

REPO = sys.argv[1]
sys.path.insert(0, os.path.join(REPO, "bench", "compare"))
import driver  # noqa: E402

DOC = os.path.join(REPO, "docs", "benchmarks.md")
with open(DOC) as f:
    text = f.read()

failures = []
markers = [(m.start(), m.end(), m.group(1), m.group(2)) for m in re.finditer(r"<!-- ([a-z0-9-]+):(begin|end) -->", text)]
sections = []  # (name, start of begin marker, end of end marker)
open_name = None
for start, end, name, which in markers:
    if which == "begin":
        if open_name is not None:
            failures.append(f"section {name!r} begins inside section {open_name[0]!r}")
        open_name = (name, start)
    elif open_name is None or open_name[0] != name:
        failures.append(f"section {name!r} ends without having begun")
    else:
        sections.append((name, open_name[1], end))
        open_name = None
if open_name is not None:
    failures.append(f"section {open_name[0]!r} never ends")

kept = {re.fullmatch(r"<!-- ([a-z0-9-]+):begin -->", begin).group(1): (begin, end)
        for begin, end, _ in driver.KEPT_SECTIONS}
found = [name for name, _, _ in sections]
for name in found:
    if name not in kept:
        failures.append(f"section {name!r} is not in bench/compare/driver.py's KEPT_SECTIONS: "
                        "the next compare run would drop it")
    if found.count(name) > 1:
        failures.append(f"section {name!r} appears {found.count(name)} times")
for name in kept:
    if name not in found:
        failures.append(f"kept section {name!r} is missing from docs/benchmarks.md")

raw = text.find("\n## Raw output\n")
if raw < 0:
    failures.append('docs/benchmarks.md has no "## Raw output" heading')
elif sections:
    position = sections[0][1]
    for name, start, end in sections:
        between = text[position:start]
        if between.strip():
            failures.append(f"text outside any kept section, before {name!r}: {between.strip()[:120]!r}")
        position = end
    if text[position:raw].strip():
        failures.append(f'text outside any kept section, before "## Raw output": '
                        f"{text[position:raw].strip()[:120]!r}")

for name, (begin, end) in kept.items():
    section = driver.kept_section(text, begin, end, "placeholder")
    if name in found and section != next(text[s:e] for n, s, e in sections if n == name):
        failures.append(f"the driver's kept_section does not give back section {name!r} unchanged")

for failure in failures:
    print("FAIL:", failure)
print(f"{len(sections)} sections checked, {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
