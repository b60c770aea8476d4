"""Criminal links: the crime whose words are those of a duty and the penalty enforcing it."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.numbering import article_pattern
from rag.links.duties import ACTOR, Duty
from rag.links.material import GRAVITY, about_listed_event, listed_events, read_as_crime
from rag.links.model import Evidence, Link, actors_meet
from rag.links.penalties import Conduct, conduct_words, paragraphs
from rag.links.terms import Weights, spans_of, terms
from rag.links.wrongs import alternatives, restated

# a crime matches when it has this share of the penalty's conduct terms (by weight) …
CRIMINAL_PENALTY_MIN = 0.5
# … and the penalty and duty together name this share of the crime's
CRIMINAL_CRIME_MIN = 0.2
CRIMINAL_TERMS = 3  # and they share at least this many terms
# a crime matched with one wrong of several a penalty lists has this share of its terms:
# a few words are the wrong's whole (提供的信息和资料有虚假记载 is not 非法提供…信息资料)
CRIMINAL_PIECE_MIN = 0.8

# a penalty's reference to the article it enforces, left out of its conduct's words
REFERENCE = re.compile(
    r"(?:违反)?本法" + article_pattern() + r"(?:第[^条，的]{1,4}款)?(?:的?规定)?")


# who a crime names as its doer, written first: 依法负有信息披露义务的公司、企业 → 公司;
# 公司、企业或者其他单位的工作人员 → their staff (从业人员), persons, not the company
_DUTY_HOLDER = re.compile(r"^(?:依法)?负有[^，。；]{0,12}的")
_JOIN = re.compile(r"、|和|及其|以及|及|或者|的")
_STAFF = re.compile(r"[^，。；]{0,60}?的(?:工作人员|人员|从业人员)")
# a crime of a company (单位犯罪) is also its officers' and controllers' (直接负责的主管人员;
# 控股股东、实际控制人组织、指使) and an issuer's; not an outside investor's or holder's
_UNIT = ("公司", "上市公司", "有限责任公司", "股份有限公司")
_UNIT_REACH = ("发行人", "董事", "监事", "高级管理人员", "控股股东", "实际控制人")


# the financial institutions 刑法 names as doers (商业银行、证券交易所、期货交易所、证券公司、
# 期货经纪公司、保险公司或者其他金融机构), as the regulatory laws name them when they bind them
_INSTITUTIONS: dict[str, tuple[str, ...]] = {
    "证券交易所": ("证券交易所", "证券交易场所"), "期货交易所": ("期货交易场所",),
    "证券公司": ("证券公司",), "期货经纪公司": ("期货公司", "期货经营机构"),
    "证券投资基金管理公司": ("基金管理人",), "基金管理公司": ("基金管理人",)}
_ANY_INSTITUTION = (*dict.fromkeys(a for v in _INSTITUTIONS.values() for a in v),
                    "基金托管人", "私募基金管理人")
_INSTITUTION = re.compile(
    "|".join(sorted(_INSTITUTIONS, key=len, reverse=True))
    + r"|(?:其他)?(?:国有)?金融机构|商业银行|银行|保险公司|保险资产管理公司")
_INSTITUTION_JOIN = re.compile(r"、|和|或者|以及|等")
def institutions(conduct: str) -> tuple[str, ...]:
    """The actors a crime whose words start with a list of financial institutions is
    done by (期货经纪公司 → 期货公司, 期货经营机构; 其他金融机构 → any of them; () when
    it starts otherwise, or is their staff's: …的工作人员 is read as any staff, as before)."""
    found: list[str] = []
    at = 0
    while match := _INSTITUTION.match(conduct, at):
        word = match.group()
        found.extend(_ANY_INSTITUTION if word.endswith("金融机构")
                     else _INSTITUTIONS.get(word, ()))
        at = match.end()
        joined = _INSTITUTION_JOIN.match(conduct, at)
        if joined is None:
            break
        at = joined.end()
    if _STAFF.match(conduct, at):
        return ()  # their staff's crime: its doers are read as any staff's (从业人员)
    return tuple(dict.fromkeys(found))


def crime_actors(conduct: str) -> tuple[str, ...]:
    """The actors a crime's words start with (() when they start otherwise: 证券、期货交易
    内幕信息的知情人员 names no actor the duties are bound as); a list of financial
    institutions is read by :func:`institutions`."""
    if named := institutions(conduct):
        return named
    text = _DUTY_HOLDER.sub("", conduct)
    found: list[str] = []
    at = 0
    while True:
        match = ACTOR.match(text, at)
        if match:
            found.append(match.group())
            at = match.end()
            continue
        joined = _JOIN.match(text, at)
        if not (joined and found):
            break
        at = joined.end()
    if found and _STAFF.match(text, at):
        return ("从业人员",)
    return tuple(dict.fromkeys(found))


def doers_meet(crime: Sequence[str], said: Sequence[Duty]) -> bool:
    """Whether a crime on ``crime`` can be the duty's: some duty sentence of the article
    binds an actor it names (or names none)."""
    bound = [d.actors for d in said if d.actors]
    if any(actor in _UNIT for actor in crime):
        crime = (*crime, *_UNIT_REACH)
    return not crime or not bound or any(actors_meet(crime, actors) for actors in bound)


def names_some(have: frozenset[str], bid: frozenset[str]) -> bool:
    """Whether a crime's terms ``have`` name something a duty says (a term, or one inside
    a longer word of it: 出资 in 出资额)."""
    return bool(have & bid) or any(h in b for b in bid for h in have if len(h) > 1)


# whom a crime's conduct is addressed to (向股东和社会公众提供…): not its conduct or object
_RECIPIENT = re.compile(r"向([^，。；]{1,20}?)(?:提供|披露|报告|报送|公告)")
# how 刑法 names a doer besides the actors duties bind (公司、企业, 其他单位)
_DOER_NOUNS = frozenset({"企业", "单位"})
# the harm a crime must cause (严重损害股东或者其他人利益): not what a duty speaks of
_HARM = re.compile(r"损害[^，。；]{0,20}?利益")


class CrimeMatcher:
    """The crimes of the indexed criminal codes, each with its conduct terms and their
    weights (computed on first use), matched against administrative penalty links."""

    def __init__(self, crimes: Sequence[Conduct], *, clauses: Sequence[Clause],
                 row_of: Mapping[str, int]) -> None:
        self.crimes = list(crimes)
        self._clauses = clauses
        self._row_of = row_of
        self._table: tuple[list[tuple[Conduct, frozenset[str]]], Weights] | None = None
        self._doers: dict[Conduct, tuple[str, ...]] = {}
        self.words: dict[Conduct, str] = {}  # each crime's conduct words
        self._listed: dict[str, list[frozenset[str]]] = {}  # material events by document
        self._items: dict[Conduct, list[frozenset[str]]] = {}  # a crime's listed acts' terms

    def _crime_table(self) -> tuple[list[tuple[Conduct, frozenset[str]]], Weights]:
        if self._table is None:
            found = []
            first: dict[tuple[str, str], Conduct] = {}
            for crime in self.crimes:
                key = (crime.clause_id, crime.paragraph)
                if key in first:  # a paragraph's words are its conducts' (its items) together
                    self._items.setdefault(first[key], []).append(terms(crime.text))
                    continue
                first[key] = crime
                clause = self._clauses[self._row_of[crime.clause_id]]
                words = conduct_words(clause, crime.paragraph)
                self._doers[crime] = crime_actors(words)
                self.words[crime] = words
                found.append((crime, terms(words)))
            self._table = (found, Weights(t for _, t in found))
        return self._table

    def elements(self, crime: Conduct, have: frozenset[str]) -> frozenset[str]:
        """What a crime says of the conduct itself: its terms but for its doer's
        (依法负有信息披露义务的公司、企业), whom it is addressed to (向股东和社会公众提供)
        and the harm it must cause (严重损害股东或者其他人利益): a duty speaks of none."""
        words = self.words[crime]
        doer = _DUTY_HOLDER.match(words)
        aside = [doer.group() if doer else "", *self._doers[crime],
                 *_RECIPIENT.findall(words), *_HARM.findall(words)]
        return have - terms(" ".join(aside), keep_actors=True) - _DOER_NOUNS

    def _events(self, doc_id: str, documents: Mapping[str, Document]
                ) -> list[frozenset[str]]:
        """The material events ``doc_id`` lists (:func:`listed_events`), read once."""
        if doc_id not in self._listed:
            self._listed[doc_id] = listed_events(documents[doc_id])
        return self._listed[doc_id]

    def fits(self, crime: Conduct, have: frozenset[str], penalty: frozenset[str],
             article: frozenset[str]) -> bool:
        """Whether a duty article (its terms ``article``) names what a crime says that
        the penalty it comes through (``penalty``) does not, when the crime adds what
        makes a wrong grave (:data:`GRAVITY`: 重要信息, 虚假 to a failure to disclose); or
        names the penalty's whole conduct (虚报注册资本…取得公司设立登记的，…应当予以撤销):
        then it is about the very wrong, and the crime's more is how grave that wrong is."""
        own = self.elements(crime, have) - penalty
        if not own & GRAVITY:
            return True  # it adds only how it words the same wrong (招股说明书, 证明文件)
        return names_some(own, article) or penalty <= article

    def links(self, links: Sequence[Link], *, clauses: Sequence[Clause],
              row_of: Mapping[str, int], unit_rows: Mapping[str, Sequence[int]],
              documents: Mapping[str, Document],
              duty_units: Mapping[str, Sequence[Duty]]) -> list[Link]:
        """The crimes whose words are the words of a duty and the administrative penalty
        that enforces it (内幕信息 … 买卖 → 刑法第一百八十条), or of one wrong of several
        it lists (擅自设立证券公司 → 刑法第一百七十四条; :func:`alternatives`)."""
        if not self.crimes:
            return []
        out: list[Link] = []
        for link in links:
            if link.kind not in ("explicit", "implicit") or link.conduct is None:
                continue
            target = clauses[unit_rows[link.target][0]]
            penalty_words = REFERENCE.sub("", restated(target, link.conduct, link.paragraph,
                                                       documents))
            penalty = terms(penalty_words)
            said = duty_units.get(link.source, [])
            # the duty sentences the link was made through (its evidence), else all
            through = [d for d in said if any(
                e.doc_id == d.doc_id and d.start <= e.start < e.end <= d.end
                for e in link.evidence)] or said
            wanted = terms(" ".join(d.text for d in said))
            if len(penalty) < 2:
                continue
            # what the duty sentences the link came through say: the crime must name some of
            # it (证券法第六十四条 …持股人的名称… says nothing of 刑法161's 信息披露)
            bid = terms(" ".join(d.text for d in through))
            # a crime narrower than the penalty (重要信息) fits a duty of the article that
            # names it too (重要: an event the statute lists as material is important)
            article = read_as_crime(terms(" ".join(d.text for d in said)))
            if any(about_listed_event(d, self._events(d.doc_id, documents)) for d in said):
                article |= {"重要"}
            found: dict[Conduct, tuple[float, frozenset[str]]] = {}
            for piece, acts in [(penalty, None), *alternatives(penalty_words, penalty)]:
                best = self._best(piece, wanted, bid, article, through, acts=acts)
                if best is not None and best[0] > found.get(best[1], (0.0,))[0]:
                    found[best[1]] = (best[0], best[2])
            out.extend(crime_link(link.source, crime, shared, score * link.confidence,
                                  clauses=clauses, row_of=row_of, documents=documents,
                                  via=link.target)
                       for crime, (score, shared) in found.items())
        return out

    def _best(self, penalty: frozenset[str], wanted: frozenset[str], bid: frozenset[str],
              article: frozenset[str], through: Sequence[Duty], *,
              acts: frozenset[str] | None = None
              ) -> tuple[float, Conduct, frozenset[str]] | None:
        """The crime that best matches a penalty's conduct (its terms ``penalty``) and
        the duty it enforces (with it, ``wanted``), or None: it has most of the conduct's
        term weight, and the conduct and duty name a share of the crime's own words.
        For one wrong of several a penalty lists (``acts``: its verbs; few words match
        more crimes by chance), the crime must do that act, the duty name some of the
        wrong's words it has (202 cites 118 and 120 for 擅自设立证券公司: 设立 is 118's),
        and the share is of what the crime says of the conduct itself (:meth:`elements`)
        or of one of its listed acts (刑法第二百二十五条（三）非法经营证券…业务)."""
        crime_terms, weights = self._crime_table()
        wanted = wanted | penalty
        as_crime = read_as_crime(penalty)
        total = weights.total(penalty)
        top: tuple[float, Conduct, frozenset[str]] | None = None
        for crime, have in crime_terms:
            shared = wanted & have
            if len(shared) < CRIMINAL_TERMS \
                    or len(shared & penalty) < 2 \
                    or not names_some(have, bid) \
                    or not self.fits(crime, have, as_crime, article) \
                    or not doers_meet(self._doers[crime], through):
                continue
            covered = weights.total(shared & penalty) / total
            if acts is None:
                described = weights.total(shared) / weights.total(have)
            elif shared & acts and names_some(shared & penalty, bid):
                described = max(weights.total(shared & part) / weights.total(part) for part in (
                    self.elements(crime, have), *self._items.get(crime, ()))
                    if weights.total(part))
            else:
                continue
            score = math.sqrt(covered * described)
            if covered < (CRIMINAL_PENALTY_MIN if acts is None else CRIMINAL_PIECE_MIN) \
                    or described < CRIMINAL_CRIME_MIN:
                continue
            if top is None or score > top[0]:
                top = (score, crime, shared)
        return top


def crime_link(source: str, crime: Conduct, shared: frozenset[str], confidence: float, *,
               clauses: Sequence[Clause], row_of: Mapping[str, int],
               documents: Mapping[str, Document], via: str | None = None) -> Link:
    """A criminal link to ``crime``, its shared words shown in the crime's paragraph."""
    target = clauses[row_of[crime.clause_id]]
    doc = documents[target.doc_id]
    text = paragraph_text(target, crime.paragraph)
    offset = target.start + target.text.find(text)
    evidence = tuple(Evidence(target.doc_id, a, b, doc.text[a:b])
                     for a, b in spans_of(sorted(shared), text, offset))
    return Link(source, target.unit_id, "criminal", round(confidence, 3), evidence,
                paragraph=crime.paragraph, via=via)


def paragraph_text(clause: Clause, label: str) -> str:
    """The words of one 款 of ``clause`` ('' names the whole clause)."""
    for found, start, end in paragraphs(clause):
        if found == label:
            return clause.text[start:end]
    return clause.text
