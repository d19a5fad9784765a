"""Reference semantics: run L1 IR directly with NumPy (DESIGN.md section 7)."""

from ccomp.reference.evaluator import evaluate
from ccomp.reference.values import EvaluationError

__all__ = ["EvaluationError", "evaluate"]
