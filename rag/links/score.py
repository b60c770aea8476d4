"""Implicit penalty links decided by a small fitted model over features of a (duty, penalty) pair.

A penalty paragraph that names no article is compared with every duty of its document
(obligations and prohibitions no penalty cites by number). Each (duty sentence, penalty
conduct alternative) match gets features of its own (:data:`OWN`: how much of the
conduct's term weight the duty has, how much of the duty's the conduct has, a shared
verb, two distinct shared terms, whether the penalty names the duty's actor (or, by a
word no actor list knows, 金融机构, the duty's subject) or another one, whether the
penalty paragraph cites some other article, whether the hand-written rule links it)
and features beside the document's other matches (:data:`RANKS`: how it ranks among
the duties the same conduct reaches, how many it reaches, how it ranks among the
penalties the same duty reaches). A logistic regression over some of them
(:data:`MODEL_FILE`, fitted by ``benchmarks/penalty_links.py --fit`` on every read sample,
chosen by leave-one-sample-out) gives the probability that a lawyer would name the
penalty for the pair's likeliest match; a pair is linked when it reaches the model's
threshold, with that probability as its confidence."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from importlib import resources

from rag.core.clauses import Clause
from rag.links.criminal import REFERENCE
from rag.links.duties import Duty, subject_leads
from rag.links.failures import failure, lacks_approval
from rag.links.liability import HARM, generic
from rag.links.model import actors_meet
from rag.links.penalties import Conduct, predicate
from rag.links.terms import (
    Group,
    Weights,
    alternatives,
    coverage,
    distinct,
    groups,
    terms,
    verbs,
    with_disposals,
)

MODEL_FILE = "penalty_model.json"
# what one (duty sentence, conduct alternative) match says on its own …
OWN = ("coverage", "duty_share", "shared_verb", "two_terms", "actor_named", "actor_clash",
       "cites_other", "rule", "rule_named")  # the rule's link where both name the same actor
# … and beside the document's other matches (:func:`ranked`): its coverage as a share of
# the best duty article's for the same alternative, whether it is that best one, one over
# how many duty articles the alternative reaches (coverage >= RULE_MIN and a shared verb),
# and its coverage as a share of the duty article's best over every penalty conduct
RANKS = ("top_share", "top", "crowd", "duty_top_share")
FEATURES = OWN + RANKS
RULE_MIN = 0.3  # the hand-written rule: share of the conduct's term weight the duty must have

# a conduct alternative: its words, its verbs, its phrase groups
Alternative = tuple[str, frozenset[str], list[Group]]
# what a document's implicit links compare: the (penalty article, 款) that cite an
# article, the duties no penalty names by number with their terms, each penalty conduct
# with its alternatives, and the terms' weights
Prepared = tuple[set[tuple[str, str]], list[tuple[str, Duty, frozenset[str]]],
                 list[tuple[Clause, Conduct, list[Alternative]]], Weights]
# a link the rule makes: duty article, penalty article, kind, score, duty, conduct, terms
Match = tuple[str, str, str, float, Duty, Conduct, frozenset[str]]


class ModelFileError(ValueError):
    """A model file that is not what it says (its sha256 or its features differ)."""


@dataclass(frozen=True)
class Model:
    """Logistic regression over the named ones of :data:`FEATURES`:
    P(link) = σ(bias + Σ wᵢ·xᵢ)."""

    weights: tuple[float, ...]
    bias: float
    threshold: float  # link at or above this probability
    features: tuple[str, ...] = FEATURES  # which of FEATURES the weights are for, in order

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown or len(self.features) != len(self.weights):
            raise ValueError(f"model features {list(self.features)}: {len(self.weights)} "
                             f"weights; each must be one of {list(FEATURES)}")

    def probability(self, features: Sequence[float]) -> float:
        """P(link) of a full :data:`FEATURES` row (the model reads its own columns)."""
        z = self.bias + sum(w * features[FEATURES.index(f)]
                            for w, f in zip(self.weights, self.features, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Option:
    """One (duty sentence, penalty conduct alternative) match of a pair: its features."""

    features: tuple[float, ...]
    duty: Duty
    conduct: Conduct
    shared: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    """One (duty article, penalty article, kind) pair and every match of their sentences;
    the pair is as likely as its likeliest match (:meth:`best`)."""

    source: str  # the duty's article (unit id)
    target: str  # the penalty's article (unit id)
    kind: str  # implicit | civil
    options: tuple[Option, ...]

    def best(self, model: Model | None = None) -> Option:
        """The likeliest match by ``model``; without one, the one the rule links, then the
        one sharing most (coverage + duty share); the first in text order on ties."""
        if model is None:
            return max(self.options, key=lambda o: (o.features[_RULE], o.features[0]
                                                    + o.features[1]))
        return max(self.options, key=lambda o: model.probability(o.features))


_RULE = FEATURES.index("rule")


def payload_digest(payload: dict[str, object]) -> str:
    """sha256 of a model's payload as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def parse_model(text: str, *, source: str = MODEL_FILE) -> Model:
    """A :class:`Model` from a model file's text, checked against its sha256 and features."""
    try:
        data = json.loads(text)
        payload = data["model"]
        digest = data["sha256"]
    except (ValueError, KeyError, TypeError) as error:
        raise ModelFileError(f"{source}: not a penalty-link model file ({error}); refit it "
                             "with `python benchmarks/penalty_links.py --fit`") from None
    if payload_digest(payload) != digest:
        raise ModelFileError(f"{source}: sha256 of its model does not match ({digest[:12]}…); "
                             "refit it with `python benchmarks/penalty_links.py --fit`")
    named = payload.get("features")
    if not isinstance(named, list) or not named or any(f not in FEATURES for f in named) \
            or len(named) != len(payload.get("weights", ())):
        raise ModelFileError(f"{source}: features {named} are not some of "
                             f"{list(FEATURES)}, one weight each; refit it")
    return Model(tuple(float(w) for w in payload["weights"]), float(payload["bias"]),
                 float(payload["threshold"]), tuple(named))


_MODEL: list[Model] = []


def default_model() -> Model:
    """The model shipped beside this module (read once)."""
    if not _MODEL:
        text = resources.files("rag.links").joinpath(MODEL_FILE).read_text(encoding="utf-8")
        _MODEL.append(parse_model(text))
    return _MODEL[0]


def pair_features(alts: Sequence[Alternative], duty: Duty, have: frozenset[str],
                  conduct: Conduct, weights: Weights, *, context: Callable[[], frozenset[str]],
                  cites_other: bool) -> list[tuple[int, Option]]:
    """The matches of one duty sentence with each alternative of one penalty conduct that
    shares a term with it (by the alternative's index), with their :data:`OWN` features
    (:data:`RANKS` are zero until :func:`ranked` fills them)."""
    # the same doer: the actors meet, or the duty's subject starts with the word the
    # penalty names its doer by where no actor list knows it (金融机构); another doer: the
    # actors differ, or the duty names an actor and its subject is not that word. The
    # rule's link counts as named (rule_named) only where actors meet: a doer no list
    # knows binds every duty of its chapter, so it tells a conduct's duties apart less
    named = bool(conduct.actors and duty.actors)
    meet = actors_meet(conduct.actors, duty.actors, duty.text)
    same = (named and meet) or (bool(conduct.subject) and subject_leads(conduct.subject, duty))
    other = (named and not meet) or (bool(conduct.subject and duty.actors) and not same)
    out = []
    paragraph_cites = cites_other
    for index, (said, acts, wanted) in enumerate(alts):
        cites_other = paragraph_cites and not stands_alone(said)
        around = context() if any(g[0] for g in wanted) else frozenset()
        found, common = coverage(wanted, have, weights, context=around)
        if not common:
            continue
        share = weights.total(common) / max(weights.total(have), 1e-9)
        verb = bool(common & acts)
        two = len(distinct(common)) >= 2
        rule = found >= RULE_MIN and verb and two and meet and not cites_other
        out.append((index, Option((found, share, float(verb), float(two), float(same),
                                   float(other), float(cites_other), float(rule),
                                   float(rule and named and meet)) + (0.0,) * len(RANKS),
                                  duty, conduct, common)))
    return out


# one match found by :func:`matches`: its key (duty article, penalty article, kind), the
# alternative it matched (penalty article, conduct start, alternative index), the match
Found = tuple[tuple[str, str, str], tuple[str, int, int], Option]


def ranked(found: Sequence[Found]) -> list[Found]:
    """The matches with their :data:`RANKS` features, from every match of the document:
    how this duty article stands among those the same conduct alternative reaches, and
    this penalty among those the same duty article reaches (by coverage)."""
    best_of_alt: dict[tuple[str, int, int], float] = {}
    reach: dict[tuple[str, int, int], set[str]] = {}
    best_of_duty: dict[str, float] = {}
    for (unit, _, _), alt, option in found:
        cover = option.features[0]
        best_of_alt[alt] = max(best_of_alt.get(alt, 0.0), cover)
        best_of_duty[unit] = max(best_of_duty.get(unit, 0.0), cover)
        if cover >= RULE_MIN and option.features[2]:
            reach.setdefault(alt, set()).add(unit)
    out = []
    for key, alt, option in found:
        cover, top = option.features[0], best_of_alt[alt]
        ranks = (round(cover / top, 6), float(cover >= top),
                 round(1.0 / max(len(reach.get(alt, ())), 1), 6),
                 round(cover / best_of_duty[key[0]], 6))
        out.append((key, alt, replace(option, features=option.features[:len(OWN)] + ranks)))
    return out


# the norm an alternative names for itself: …，或者转让股票不符合法律、行政法规和国务院证券
# 监督管理机构规定的 (证券法第一百八十六条) is a conduct of its own, not one more way of
# breaching the article the paragraph cites for its first alternative
_OWN_NORM = re.compile(r"(?:不符合|违反|未按照|未依照|不按照)[^，。；]{0,40}规定")


def stands_alone(alternative: str) -> bool:
    """Whether an alternative of a paragraph that cites an article punishes a conduct of
    its own: it does not cite the article itself and names the norm it breaches."""
    return not REFERENCE.search(alternative) and bool(_OWN_NORM.search(alternative))


def matches(prepared: Prepared, context: Callable[[str], frozenset[str]]
            ) -> list[Candidate]:
    """Every (duty article, penalty article, kind) of one document whose sentences share
    a term, with each match's features; ``context(unit)`` is an article's own terms."""
    referring, duties_found, conduct_terms, weights = prepared
    every_match: list[Found] = []
    for clause, conduct, alts in conduct_terms:
        cites = (clause.unit_id, conduct.paragraph) in referring
        kind = "civil" if conduct.sanction == "civil" else "implicit"
        every = frozenset().union(*(p for *_, wanted in alts for _, g in wanted for p in g))
        for unit, duty, have in duties_found:
            if unit == clause.unit_id or not every & have \
                    or lacks_approval(conduct.text, duty.text):
                continue
            every_match += [((unit, clause.unit_id, kind), (clause.unit_id, conduct.start, i), o)
                            for i, o in pair_features(alts, duty, have, conduct, weights,
                                                      context=partial(context, unit),
                                                      cites_other=cites)]
    found: dict[tuple[str, str, str], list[Option]] = {}
    for key, _, option in ranked(every_match):
        found.setdefault(key, []).append(option)
    return [Candidate(*key, tuple(options)) for key, options in sorted(found.items())]


# a sentence whose subject is left unsaid: a time or condition, then the modal word
# (未清偿债务之前，不得…); one that names a subject no actor list knows (期货交易所向会员
# 收取的保证金…严禁…) is not
_ELIDED = re.compile(r"^[^，。；]{0,30}(?:之前|以前|之后|以后|期间|时|的)[，,]"
                     r"(?:也|均|都)?(?:不得|应当|必须|严禁|禁止|应|须)")


# a duty a conduct names as its own article's (未及时履行前款规定的义务): no other article's
OWN_DUTY = re.compile(r"(?:前款|前[两二三]款|本条|本款)[^，。；]{0,8}?规定的?(?:义务|职责)")


def with_elided_actors(said: Sequence[Duty]) -> list[Duty]:
    """An article's duty sentences, one that names no actor bound as the sentence before
    it (外国公司撤销其…分支机构时，应当依法清偿债务…。未清偿债务之前，不得将其分支机构的
    财产转移…: the second's subject is the first's, left unsaid as Chinese does)."""
    out: list[Duty] = []
    for duty in said:
        if not duty.actors and out and out[-1].actors and _ELIDED.match(duty.text):
            duty = replace(duty, actors=out[-1].actors)
        out.append(duty)
    return out


def only_its_doer(conduct: Conduct) -> bool:
    """Whether a conduct says only who does it (金融机构有下列情形之一的 → 金融机构的: the
    items say what), by a word no actor list knows."""
    return bool(conduct.subject) and not terms(conduct.text.replace(conduct.subject, ""))


def prepare(doc_id: str, pairs: Sequence[tuple[Clause, Conduct]],
            duty_units: Mapping[str, Sequence[Duty]], named: set[str],
            mentions: Callable[[Clause], Sequence[tuple[int, int, int]]]) -> Prepared:
    """What the implicit links of one document compare: the penalty paragraphs that
    cite an article, the duties no penalty names by number with their terms, each
    conduct's alternatives, and the terms' weights."""
    referring_paragraphs = {
        (c.unit_id, k.paragraph) for c, k in pairs
        if any(c.start + s >= k.start and c.start + e <= k.end
               for _, s, e in mentions(c))}
    candidates = [
        (unit, duty, with_disposals(terms(duty.text)))
        for unit, found in duty_units.items() for duty in with_elided_actors(found)
        if duty.doc_id == doc_id and unit not in named
        and duty.modality in ("obligation", "prohibition")
    ]
    conduct_terms = []
    for clause, conduct in pairs:
        named_failure = failure(conduct.text)
        if (named_failure is not None and named_failure.whole) or generic(conduct.text) \
                or OWN_DUTY.search(conduct.text) or only_its_doer(conduct):
            continue  # it names the failed duty (:mod:`rag.links.failures`; 前款规定的义务:
            # its own article's), or no conduct (金融机构的: a list's lead-in)
        said = HARM.sub("", predicate(conduct.text))
        words = REFERENCE.sub("", said)
        conditions = [g for g in groups(words) if g[0]]
        # each alternative as written (with its reference, if it has one), its verbs
        # and its terms without the reference
        conduct_terms.append((clause, conduct, [
            (alt, verbs(bare), [g for g in groups(bare) if not g[0]] + conditions)
            for alt in alternatives(said) for bare in (REFERENCE.sub("", alt),)]))
    weights = Weights([t for *_, t in candidates]
                      + [frozenset().union(*(p for _, g in wanted for p in g))
                         for *_, alts in conduct_terms for *_, wanted in alts])
    return referring_paragraphs, candidates, conduct_terms, weights


def rule_matches(prepared: Prepared, context: Callable[[str], frozenset[str]]) -> list[Match]:
    """The hand-written rule the model replaced: the duty has at least :data:`RULE_MIN`
    of the conduct's term weight, a verb of it and two distinct terms, the actors meet,
    and the penalty paragraph cites no article (it punishes the one it cites)."""
    referring, duties_found, conduct_terms, weights = prepared
    links: list[Match] = []
    for clause, conduct, every in conduct_terms:
        alts = every
        if (clause.unit_id, conduct.paragraph) in referring:
            alts = [alt for alt in every if stands_alone(alt[0])]
        for unit, duty, have in duties_found:
            if unit == clause.unit_id or not actors_meet(conduct.actors, duty.actors,
                                                         duty.text) \
                    or lacks_approval(conduct.text, duty.text):
                continue
            score, shared = 0.0, frozenset[str]()
            for _, acts, wanted in alts:
                around = context(unit) if any(g[0] for g in wanted) else frozenset()
                found, common = coverage(wanted, have, weights, context=around)
                if found > score and common & acts and len(distinct(common)) >= 2:
                    score, shared = found, common
            if score >= RULE_MIN:
                kind = "civil" if conduct.sanction == "civil" else "implicit"
                links.append((unit, clause.unit_id, kind, score, duty, conduct, shared))
    return links
