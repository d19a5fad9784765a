"""Helpers the lowering passes share; none of these is a pass itself."""
