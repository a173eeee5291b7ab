"""Typed endpoint wrappers, one namespace per part of the API (``cci.pipelines``, ...).

They build paths, query parameters and bodies and name the model each answer becomes; the HTTP
work is the client's (``request`` / ``paginate``).
"""

from __future__ import annotations

__all__ = ["ResourceNamespaces"]


class ResourceNamespaces:
    """Mixed into :class:`~circleci_async.CircleCI`: the resource namespaces hang off it."""
