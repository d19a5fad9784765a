"""Buffer textures for the ``glsl`` device: the few GL calls moderngl does not expose.

The GLSL emitter reads read-only buffers through ``samplerBuffer``/``isamplerBuffer``
(cheaper than SSBO loads on llvmpipe); binding one needs ``glTexBuffer``, which
moderngl lacks, so ``TextureGL`` resolves it and its neighbours with
``eglGetProcAddress`` (moderngl's context here is an EGL one) and calls them through
ctypes. They act on the current context: callers make the device's context current.
"""

from __future__ import annotations

import ctypes
from typing import Any

_TEXTURE_BUFFER, _TEXTURE0 = 0x8C2A, 0x84C0
_FORMATS = {"GL_R32F": 0x822E, "GL_RG32F": 0x8230, "GL_RGB32F": 0x8815, "GL_RGBA32F": 0x8814,
            "GL_R32I": 0x8235, "GL_RG32I": 0x823B, "GL_RGB32I": 0x8D83, "GL_RGBA32I": 0x8D82}


class TextureGL:
    """The GL entry points for buffer textures, which moderngl does not expose, looked
    up through ``eglGetProcAddress`` (the context is an EGL one). They act on the
    current context, so call them inside the device's ``current`` methods (gl_launch.py)."""

    def __init__(self) -> None:
        egl = None
        for name in ("libEGL.so.1", "libEGL.so"):
            try:
                egl = ctypes.CDLL(name)
                break
            except OSError:
                continue
        if egl is None:
            raise OSError("libEGL cannot be loaded")
        egl.eglGetProcAddress.restype, egl.eglGetProcAddress.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
        uint, ptr = ctypes.c_uint, ctypes.POINTER(ctypes.c_uint)

        def fn(name: str, *args: Any) -> Any:
            address = egl.eglGetProcAddress(name.encode())
            if not address:
                raise OSError(f"eglGetProcAddress gives no {name}")
            return ctypes.CFUNCTYPE(None, *args)(address)

        self.gen, self.delete = fn("glGenTextures", ctypes.c_int, ptr), fn("glDeleteTextures", ctypes.c_int, ptr)
        self.bind, self.active = fn("glBindTexture", uint, uint), fn("glActiveTexture", uint)
        self.buffer = fn("glTexBuffer", uint, uint, uint)

    def view(self, unit: int, buffer_glo: int, fmt: str) -> int:
        """A new buffer texture reading buffer object ``buffer_glo`` as ``fmt`` texels,
        left bound at texture ``unit`` (binding it elsewhere would unbind another)."""
        name = ctypes.c_uint()
        self.gen(1, ctypes.byref(name))
        self.use(unit, name.value)
        self.buffer(_TEXTURE_BUFFER, _FORMATS[fmt], buffer_glo)
        return name.value

    def use(self, unit: int, texture: int) -> None:
        self.active(_TEXTURE0 + unit)
        self.bind(_TEXTURE_BUFFER, texture)

    def free(self, texture: int) -> None:
        self.delete(1, ctypes.byref(ctypes.c_uint(texture)))
