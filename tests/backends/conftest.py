"""Makes ``backend_cases`` (the kernels both C-style targets run) importable by the
test modules whatever pytest's import mode."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
