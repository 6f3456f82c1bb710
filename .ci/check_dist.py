"""Check built distributions: the wheel carries every file of the package, the sdist the repo.

Usage: python .ci/check_dist.py DIST_DIR (run by .ci/run after `python -m build`). Compares
against `git ls-files`, so a new data file under hpcspec/ (a JSON table, py.typed) that
package-data does not pick up, or a new top-level folder MANIFEST.in does not graft, fails
here instead of at a user's import.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_IN_SDIST = (".ci/", ".gitignore")  # CI plumbing, not part of a source release


def tracked() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def main(dist: Path) -> int:
    (wheel,) = dist.glob("hpcspec-*.whl")
    (sdist,) = dist.glob("hpcspec-*.tar.gz")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    files = tracked()
    missing = [f"wheel: {n}" for n in files if n.startswith("hpcspec/") and n not in in_wheel]
    missing += [
        f"sdist: {n}" for n in files if not n.startswith(NOT_IN_SDIST) and n not in in_sdist
    ]
    for line in missing:
        print(f"missing from the {line}", file=sys.stderr)
    print(f"{wheel.name}: {len(in_wheel)} files; {sdist.name}: {len(in_sdist)} files")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
