"""CircleCI API v3 (``cci.v3``): the current cloud API, beside v2 on the same client.

::

    async with CircleCI() as cci:
        me = await cci.v3.users.me()
        async for run in cci.v3.runs.list(limit=20):
            async for workflow in cci.v3.workflows.list(run.id):
                print(workflow.attributes.name, workflow.attributes.phase)

Layout: :mod:`.client` (the :class:`V3` facade: URLs, cursor pages, per-operation retry and
limits), :mod:`._envelope` (``data``/``attributes``/``references``, in one place),
:mod:`.models`, :mod:`._limits`, and :mod:`.resources` (one module per family). Deprecation
headers are read by the request pipeline for every API (:mod:`circleci_async._deprecation`). Credentials (Bearer) are decided in :mod:`circleci_async.auth`, the v3 error object
is read in :mod:`circleci_async.errors`, cursor paging is :mod:`circleci_async.pagination`'s
``V3_PAGES`` style.

What is known, from ``shared/notes/api-v3.md`` (official docs, the official CLI and IDE plugin):

* the base ``/api/v3``, ``Authorization: Bearer``, no token in a query string (§1);
* the envelope ``{"data": {id, attributes, references}}`` and collections ``{"data": [...],
  "page": {"next", "prev"}}`` with opaque cursors sent back as ``page[cursor]``; a null or
  empty ``next``, an empty ``data`` or a missing ``page`` ends a walk (§1, §3.1);
* search POSTs carry ``page: {cursor, limit}`` in the body (§3.1);
* the known ``page[limit]`` maxima: runs 20, projects 50 (§3.1), a 400 when out of range;
* the error object ``error: {type, id, title, detail, source.pointer}``; 410 for removed
  routes; ``Deprecation``/``Sunset`` headers on deprecated ones (§1);
* the routes, fields and lifecycle values of runs, workflows, jobs, users, orgs and projects
  (§2.1, §2.2, §3.4), and the v2 -> v3 mapping (§4).

What is **[inferred]** (no source says; marked ``[inferred]`` where it is in the code):

* operation ids (``v3.getRun``): the spec's ``operationId`` values could not be read;
* which POSTs may be retried: none is documented as idempotent (§6.5). ``runs.search`` is
  treated as idempotent because a search changes nothing; rerun and cancel are not retried;
* maxima of ``page[limit]`` beyond the known ones: only ``>= 1`` is checked;
* whether artifact lists page; whether settings and artifacts carry an ``id``; the org lookup's
  attributes beyond ``id``; whether ``runs.search`` needs ``from``/``to``;
* the search filter's string escaping (only ``==`` and ``and`` are known);
* the legacy runner API on the same ``/api/v3`` prefix keeps ``Circle-Token``; the newer
  v3-style runner routes get Bearer;
* ``Deprecation: false`` is not a deprecation; a warning is given once per operation and
  client, for 2xx answers (as the official CLI warns).
"""

from __future__ import annotations

from ..errors import (
    ErrorObject,  # an APIError's ``error``: not an exception, so not in errors' __all__
)
from .client import V3

__all__ = ["V3", "ErrorObject"]
