"""Test-wide setup: builds go to a private cache, never the user's, and the shared
helpers in this folder (``refutil``) are importable from every test folder."""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("CCOMP_CACHE_DIR", tempfile.mkdtemp(prefix="ccomp-test-cache-"))
sys.path.insert(0, str(Path(__file__).parent))
