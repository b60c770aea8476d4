"""The library inside AI assistants: a Model Context Protocol server over the same calls.

:func:`~rag.mcp.server.build_server` offers read tools (ask, search_clauses, get_clause,
compare_versions, list_documents) and the ``clause://`` and ``document://`` resources
over a :class:`~rag.api.service.Service`; ``rag mcp`` serves it over stdio and
``rag serve`` at ``/mcp`` (streamable HTTP, :mod:`rag.mcp.http`). Nothing writes.
"""
