"""Penalties that punish what other penalty articles punish: their duties are theirs too.

A penalty article may name its conduct by the penalty articles that punish it:
金融机构有本法第五十三条、第五十四条规定的行为，致使…的 (an aggravated breach, 反洗钱法
第五十五条), or 依照本法第五十二条至第五十四条规定对金融机构进行处罚的，还可以…对负有责任
的董事…罚款 (the persons responsible, 第五十六条). Such a penalty enforces every duty the
cited penalty articles enforce (explicitly or implicitly), as an implicit link whose
evidence is the reference and whose confidence is the cited link's. A penalty that only
borrows another's sanction for a conduct of its own (…不予配合的，由…依照本法第五十四条、
第五十六条规定进行处罚) does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from rag.core.clauses import Clause
from rag.links.model import Evidence, Link
from rag.links.penalties import PUNISHER, Conduct

# a reference, its row and its offsets into the citing clause's text
Mentions = Callable[[Clause], Sequence[tuple[int, int, int]]]


def onward_links(doc_id: str, said: Iterable[tuple[Clause, Conduct]], links: Iterable[Link],
                 *, clauses: Sequence[Clause], unit_rows: Mapping[str, Sequence[int]],
                 penalty_units: set[str], mentions: Mentions) -> list[Link]:
    """The duties of each penalty article of ``doc_id`` (``said``: their conducts) that
    cites other penalty articles where it says what it punishes: those the cited ones
    enforce administratively (``links``: explicit and implicit)."""
    penalties = [clauses[r] for u in sorted(penalty_units) for r in unit_rows.get(u, ())
                 if clauses[r].doc_id == doc_id and clauses[r].kind == "article"]
    by_penalty: dict[str, list[Link]] = {}
    for link in links:
        if link.kind in ("explicit", "implicit") and link.source != link.target:
            by_penalty.setdefault(link.target, []).append(link)
    conducts: dict[str, list[tuple[int, int]]] = {}
    for clause, conduct in said:
        conducts.setdefault(clause.unit_id, []).append(
            (conduct.start - clause.start, conduct.end - clause.start))
    out: list[Link] = []
    for clause in penalties:
        # where the article names what it punishes: its conducts, and who is punished
        # under other articles (依照本法第五十二条…对金融机构进行处罚的，)
        spans = conducts.get(clause.unit_id, []) \
            + [m.span() for m in PUNISHER.finditer(clause.text)]
        cited: dict[str, tuple[int, int]] = {}
        for row, start, end in mentions(clause):
            unit = clauses[row].unit_id
            if unit in penalty_units and unit != clause.unit_id \
                    and any(a < end <= b for a, b in spans):
                cited.setdefault(unit, (start, end))
        seen: set[str] = set()
        for unit, (start, end) in cited.items():
            for link in by_penalty.get(unit, []):
                if link.source in seen:
                    continue
                seen.add(link.source)
                evidence = Evidence(clause.doc_id, clause.start + start, clause.start + end,
                                    clause.text[start:end])
                out.append(Link(link.source, clause.unit_id, "implicit", link.confidence,
                                (evidence,)))
    return out
