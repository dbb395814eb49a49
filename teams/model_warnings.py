"""The model checks by the names they were first given: ``model_warnings`` (tools on a model
that cannot call them, a schema on a model without structured output, instructions that fill
the context window) and ``unknown_fallback_models`` are pure and run in ``teams/validation.py``'s
``validate()``; ``model_capabilities(workspace)``, what they need from the database, is in
``teams/services.py`` beside the rest of the validation context.
"""

from __future__ import annotations

from .services import model_capabilities
from .validation import model_warnings, unknown_fallback_models

__all__ = ["model_capabilities", "model_warnings", "unknown_fallback_models"]
