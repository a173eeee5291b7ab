"""Typed models of API responses (attrs classes) and the converter that builds them."""

from __future__ import annotations

from ._converter import converter, structure, unstructure

__all__ = ["converter", "structure", "unstructure"]
