"""One device per target (llvmlite, pyopencl, moderngl) behind :class:`ccomp.runtime.devices.base.Device`."""
