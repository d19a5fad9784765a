"""The frontend of ``fn`` (tensor) programs: type checking and generation of the ``sparse`` dialect."""
