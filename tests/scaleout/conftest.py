"""One local Ray instance (2 CPUs) for the tests of this folder, as ray.init costs
seconds; shut down after them. A test that needs Ray skips, saying why, where it is
not installed (CI installs it: pip install '.[test,ray]')."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="package")
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
