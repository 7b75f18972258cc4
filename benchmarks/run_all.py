"""Run every benchmark in this folder, one after the other: ``python benchmarks/run_all.py``.

Each ``bench_*.py`` is also runnable alone and prints its own ratios against a baseline measured in
the same process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    status = 0
    for script in sorted(Path(__file__).parent.glob("bench_*.py")):
        print(f"\n## {script.name}", flush=True)
        status |= subprocess.run([sys.executable, str(script)], check=False).returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
