"""Typed models of API v3 answers, split by family (``_core``: users, orgs, projects, runs,
workflows, jobs; then pipelines and triggers, contexts, providers, deploy, signing, orbs, and
the runner surface with charges). Every name is importable from here, as it was when this was
one module; the tolerance rules are ``_core``'s docstring."""

from __future__ import annotations

from ._contexts import *  # noqa: F403
from ._contexts import __all__ as _contexts
from ._core import *  # noqa: F403
from ._core import __all__ as _core
from ._deploy import *  # noqa: F403
from ._deploy import __all__ as _deploy
from ._orbs import *  # noqa: F403
from ._orbs import __all__ as _orbs
from ._pipelines import *  # noqa: F403
from ._pipelines import __all__ as _pipelines
from ._providers import *  # noqa: F403
from ._providers import __all__ as _providers
from ._runner import *  # noqa: F403
from ._runner import __all__ as _runner
from ._signing import *  # noqa: F403
from ._signing import __all__ as _signing

__all__ = [
    *_core,
    *_pipelines,
    *_contexts,
    *_providers,
    *_deploy,
    *_signing,
    *_orbs,
    *_runner,
]
