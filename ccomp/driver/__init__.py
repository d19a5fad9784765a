"""The driver: the pass pipeline, the compile cache, and the ``ccomp`` and ``ccomp-opt`` commands.

The only part besides :mod:`ccomp.api` that wires frontend, passes, backends and runtime together."""
