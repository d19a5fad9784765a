"""The frontend of ``graph`` programs: type checking and generation of the ``graph`` and ``loop`` dialects."""
