#!/usr/bin/env python3
"""Writes N Markdown postmortems for the import benchmark.

Each file is one of the real postmortems in tests/fixtures/corpus (DFDS
archive and the examples), with its title, dates and a few words changed so
every file is distinct: the same shapes real archives have (tables, lists,
stats, CET and UTC timelines), in volume.

    python3 bench/gen_markdown.py 10000 /tmp/debrief-import-bench
"""
import pathlib
import random
import re
import sys


def main() -> None:
    count, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    root = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/corpus"
    sources = sorted(p for p in (root / "dfds").iterdir() if p.name.startswith("PM") and "template" not in p.name)
    sources.append(root / "examples/blameless.md")
    texts = [p.read_text() for p in sources]
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    for index in range(count):
        text = texts[index % len(texts)]
        year = 2015 + index % 11
        text = re.sub(r"\b20[12]\d-", f"{year}-", text)
        text = re.sub(r"^# (.*)$", lambda m: f"# {m.group(1)} (case {index})", text, count=1, flags=re.M)
        text += f"\n\nGenerated variant {index}, seed word {rng.choice(['alpha', 'bravo', 'charlie', 'delta'])}.\n"
        (out / f"PM{year}-{index:05d}.md").write_text(text)
    print(f"wrote {count} files to {out}")


if __name__ == "__main__":
    main()
