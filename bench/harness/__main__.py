"""Entry point: ``python -m bench.harness run ...`` or ``python bench/harness run ...``."""

import sys
from pathlib import Path

if not __package__:  # started as a folder: import the package from the repository root instead
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(here.parents[1]))

from bench.harness.cli import main

sys.exit(main())
