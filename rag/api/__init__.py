"""The HTTP API beside the chat (``/api/v1``), and what it shares with the library page.

:mod:`rag.api.models` holds every request and response model (the batch JSON-lines
schema too); :mod:`rag.api.live` the index that answers, swapped after each re-index;
:mod:`rag.api.library` the uploaded documents; :mod:`rag.api.auth` who may change them;
:mod:`rag.api.app` mounts the routes on a FastAPI app. Importing this package imports
nothing heavy: ``rag batch`` uses the models without FastAPI.
"""
