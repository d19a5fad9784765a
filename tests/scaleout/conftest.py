"""One local Ray instance per test module (ray.init costs seconds), bounded in time and
shut down at the end; a module that needs Ray skips, saying why, where it is missing."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install '.[ray]'); CI installs it")
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             _system_config={"worker_register_timeout_seconds": 60})
    try:
        yield ray
    finally:
        ray.shutdown()
