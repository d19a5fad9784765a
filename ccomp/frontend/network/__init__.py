"""Spiking networks (``network`` declarations): AST, argument and unit checks, weights
files, and IR generation into the ``snn`` dialect (:class:`NetGen`)."""
