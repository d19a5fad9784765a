"""Sparse storage formats at run time: canonical arrays, validation, ``.npz`` files, automatic format choice."""
