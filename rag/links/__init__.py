"""Links between clauses: who cites whom, and what enforces each duty.

:class:`LinkTable` is computed from one index generation's documents and clauses
(deterministically; ~3 s for the shipped corpus) and kept per opened index by
:func:`links_for`: ``referenced_by`` (cross-references in reverse) and penalty links from
each duty clause to the clauses that enforce it (explicit, implicit, criminal, civil),
each with a confidence and its evidence as verbatim slices. :func:`duties` finds the duty
sentences (应当 / 不得 / 可以; shall / shall not / may) the register of duties lists.
"""

from rag.links.cache import links_for
from rag.links.duties import ACTORS, MODALITIES, Duty, duties, modality
from rag.links.model import KINDS, Evidence, Link
from rag.links.table import LinkTable

__all__ = [
    "ACTORS",
    "KINDS",
    "MODALITIES",
    "Duty",
    "Evidence",
    "Link",
    "LinkTable",
    "duties",
    "links_for",
    "modality",
]
