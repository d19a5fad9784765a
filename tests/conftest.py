"""Test-wide setup: builds go to a private cache, never the user's."""

import os
import tempfile

os.environ.setdefault("CCOMP_CACHE_DIR", tempfile.mkdtemp(prefix="ccomp-test-cache-"))
