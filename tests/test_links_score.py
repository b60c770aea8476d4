"""The fitted implicit-link model: each feature on a small statute, the model file, the fit.

The fixture (tests/data/link_model/sample_fund_rules.md) has five duties and three penalties:
第七条 punishes 基金管理人 not keeping records (第二条 obliges 基金管理人 to keep them,
第三条 obliges 基金托管人: another actor), 第八条 cites 第五条 (so 第六条, which also
says 披露, is only reached through a paragraph that cites another article), 第九条
punishes 挪用基金财产 (第四条).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.links import LinkTable
from rag.links.fitting import fit_candidates, fit_logistic, likeliest, threshold_for
from rag.links.score import (
    FEATURES,
    MODEL_FILE,
    OWN,
    RANKS,
    Model,
    ModelFileError,
    default_model,
    parse_model,
    payload_digest,
)
from rag.readers import read_document

from .conftest import DATA

REPO = Path(__file__).resolve().parents[1]
DOC = "sample_fund_rules"


def fixture() -> tuple[list, list]:
    doc = read_document(DATA / "link_model" / f"{DOC}.md")
    return [doc], chunk_document(doc)


def pairs(table: LinkTable) -> set[tuple[str, str, str]]:
    return {(k.source.removeprefix(f"{DOC}#"), k.target.removeprefix(f"{DOC}#"), k.kind)
            for k in table.all_links()}


def only(feature: str) -> Model:
    """A model that links exactly when ``feature`` is at least 0.5."""
    weights = tuple(10.0 if f == feature else 0.0 for f in FEATURES)
    return Model(weights, -5.0, 0.5)


EXPLICIT = ("art5", "art8", "explicit")


def test_the_features_of_a_pair_are_those_of_its_best_matching_sentences() -> None:
    table = LinkTable(*fixture(), scorer="rules")
    found = {(c.source.removeprefix(f"{DOC}#"), c.target.removeprefix(f"{DOC}#")):
             dict(zip(FEATURES, c.best().features, strict=True))
             for c in table.candidates_of(DOC)}
    # every conduct term of 第七条 (交易 记录 资料 保存) is in 第二条, by the same actor
    keep = found["art2", "art7"]
    assert (keep["coverage"], keep["shared_verb"], keep["two_terms"]) == (1.0, 1.0, 1.0)
    assert (keep["actor_named"], keep["actor_clash"], keep["cites_other"], keep["rule"],
            keep["rule_named"]) == (1.0, 0.0, 0.0, 1.0, 1.0)
    assert 0 < keep["duty_share"] < 1  # 妥善, 份额, 持有人 … are the duty's alone
    # the same words, but 第三条 binds 基金托管人 and 第七条 punishes 基金管理人
    other = found["art3", "art7"]
    assert (other["coverage"], other["actor_named"], other["actor_clash"], other["rule"],
            other["rule_named"]) == (1.0, 0.0, 1.0, 0.0, 0.0)
    # 第八条 cites 第五条: its paragraph reaches 第六条 (披露) only as one citing another
    cited = found["art6", "art8"]
    assert (cited["cites_other"], cited["rule"], cited["shared_verb"]) == (1.0, 0.0, 1.0)
    # 第五条 is named by number: it is not a candidate for word comparison
    assert not any(source == "art5" for source, _ in found)


@pytest.mark.parametrize(("feature", "expected"), [
    ("coverage", {("art2", "art7", "implicit"), ("art3", "art7", "implicit"),
                  ("art4", "art9", "implicit")}),
    ("actor_clash", {("art3", "art7", "implicit")}),
    ("cites_other", {("art2", "art8", "implicit"), ("art4", "art8", "implicit"),
                     ("art6", "art8", "implicit")}),
    ("rule", {("art2", "art7", "implicit"), ("art4", "art9", "implicit")}),
    # the rule's links where both name the same actor (基金管理人): the same two here
    ("rule_named", {("art2", "art7", "implicit"), ("art4", "art9", "implicit")}),
    # each conduct's best duty: 第六条 for 第八条 too (披露 基金), though it cites 第五条
    ("top", {("art2", "art7", "implicit"), ("art3", "art7", "implicit"),
             ("art4", "art9", "implicit"), ("art6", "art8", "implicit")}),
])
def test_each_feature_alone_links_exactly_the_pairs_that_have_it(
        feature: str, expected: set[tuple[str, str, str]]) -> None:
    table = LinkTable(*fixture(), model=only(feature))
    assert pairs(table) == expected | {EXPLICIT}


def test_the_rule_feature_is_the_hand_written_rule() -> None:
    assert pairs(LinkTable(*fixture(), model=only("rule"))) == \
        pairs(LinkTable(*fixture(), scorer="rules"))


def test_the_shipped_model_links_with_its_probability_as_confidence() -> None:
    table = LinkTable(*fixture())
    assert pairs(table) == {("art2", "art7", "implicit"), ("art4", "art9", "implicit"),
                            EXPLICIT}
    model = default_model()
    scored = {(c.source, c.target): c.best(model).features for c in table.candidates_of(DOC)}
    for link in table.all_links():
        if link.kind == "implicit":
            chance = model.probability(scored[link.source, link.target])
            assert link.confidence == round(chance, 3) and chance >= model.threshold
            assert all(e.text in {"交易", "记录", "资料", "保存", "基金", "挪用", "财产"}
                       for e in link.evidence)
    again = LinkTable(*fixture())  # deterministic
    assert again.all_links() == table.all_links()


def test_a_pair_is_as_likely_as_its_likeliest_match() -> None:
    table = LinkTable(*fixture(), scorer="rules")
    pair = next(c for c in table.candidates_of(DOC) if c.target.endswith("art7")
                and c.source.endswith("art2"))
    def row(**named: float) -> tuple[float, ...]:
        return tuple(named.get(f, 0.0) for f in FEATURES)

    ruled = replace(pair.options[0], features=row(coverage=0.3, duty_share=0.1, shared_verb=1,
                                                  two_terms=1, actor_named=1, rule=1))
    covered = replace(pair.options[0], features=row(coverage=1.0, duty_share=0.1,
                                                    shared_verb=1, two_terms=1, actor_named=1))
    two = replace(pair, options=(ruled, covered))
    assert two.best() is ruled  # without a model: the match the rule links
    assert two.best(only("coverage")) is covered
    assert two.best(only("rule")) is ruled


def test_each_match_is_ranked_beside_the_documents_other_matches() -> None:
    table = LinkTable(*fixture(), scorer="rules")
    found = {(c.source.removeprefix(f"{DOC}#"), c.target.removeprefix(f"{DOC}#")):
             dict(zip(FEATURES, c.best().features, strict=True))
             for c in table.candidates_of(DOC)}
    ranks = {pair: tuple(f[r] for r in RANKS) for pair, f in found.items()}
    cover = {pair: f["coverage"] for pair, f in found.items()}
    # 第七条's conduct (保存交易记录和有关资料) is all in 第二条 and in 第三条: both are its
    # best, and it reaches two duty articles (coverage >= 0.3 and a shared verb)
    assert ranks["art2", "art7"] == ranks["art3", "art7"] == (1.0, 1.0, 0.5, 1.0)
    # 第九条 (挪用基金财产) reaches 第四条 alone; 第二条 shares only 基金 with it
    assert ranks["art4", "art9"] == (1.0, 1.0, 1.0, 1.0)
    assert cover["art2", "art9"] < 0.3
    assert ranks["art2", "art9"] == (round(cover["art2", "art9"], 6), 0.0, 1.0,
                                     round(cover["art2", "art9"], 6))  # 第二条's best is 1.0
    # 第八条's conduct (未披露基金净值) is best met by 第六条 (披露 基金); 第二条 and 第四条
    # share only 基金: a share of 第六条's coverage, and of their own best (第七条, 第九条)
    assert ranks["art6", "art8"] == (1.0, 1.0, 1.0, 1.0)
    low = round(cover["art2", "art8"] / cover["art6", "art8"], 6)
    assert ranks["art2", "art8"] == (low, 0.0, 1.0, round(cover["art2", "art8"], 6))
    assert ranks["art4", "art8"][:2] == (low, 0.0)
    # 第六条's best penalty is 第八条: 第九条 is a share of it
    assert ranks["art6", "art9"][3] == round(cover["art6", "art9"] / cover["art6", "art8"], 6)
    assert 0 < ranks["art6", "art9"][3] < 1


def test_a_model_reads_only_the_features_it_names() -> None:
    table = LinkTable(*fixture(), model=Model((10.0,), -5.0, 0.5, ("top",)))
    # 第二、三条 are 第七条's best, 第四条 第九条's, 第六条 第八条's (the rule takes 第八条
    # only through a paragraph citing another article; "top" does not look at that)
    assert pairs(table) == {("art2", "art7", "implicit"), ("art3", "art7", "implicit"),
                            ("art4", "art9", "implicit"), ("art6", "art8", "implicit"),
                            EXPLICIT}
    assert Model((1.0,), 0.0, 0.5, ("crowd",)).probability(
        (0.0,) * (len(FEATURES) - 2) + (0.0, 1.0)) == 0.5  # crowd is 0.0 in that row
    with pytest.raises(ValueError, match="vectors"):
        Model((1.0,), 0.0, 0.5, ("vectors",))
    with pytest.raises(ValueError, match="2 weights"):
        Model((1.0, 2.0), 0.0, 0.5, ("top",))
    assert OWN + RANKS == FEATURES


def test_an_unknown_scorer_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="learned, rules"):
        LinkTable(*fixture(), scorer="vectors")


# --------------------------------------------------------------------------- the file


def test_the_shipped_model_file_is_whole_and_fitted_on_the_read_samples_only() -> None:
    data = json.loads((REPO / "rag" / "links" / MODEL_FILE).read_text(encoding="utf-8"))
    assert data["sha256"] == payload_digest(data["model"])
    assert data["model"]["fitted_on"].split(" + ") == [  # never a held-out sample
        "penalty_links.csv", "penalty_links_heldout_read.csv",
        "penalty_links_heldout2_read.csv", "penalty_links_heldout4_read.csv",
        "penalty_links_heldout5_read.csv", "penalty_links_heldout6_read.csv"]
    assert data["model"]["cross_validation"] == "leave one sample out"
    model = default_model()
    assert model.features == tuple(data["model"]["features"])
    assert set(model.features) <= set(FEATURES) and 0 < model.threshold < 1


def test_a_model_file_whose_sha256_or_features_differ_is_refused() -> None:
    text = (REPO / "rag" / "links" / MODEL_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    data["model"]["weights"][0] += 1.0
    with pytest.raises(ModelFileError, match="sha256 of its model does not match"):
        parse_model(json.dumps(data), source="edited.json")
    data["model"]["features"] = data["model"]["features"][:-1]
    data["sha256"] = payload_digest(data["model"])
    with pytest.raises(ModelFileError, match="features"):
        parse_model(json.dumps(data))  # one weight too many
    data["model"]["features"] = ["vectors"] * len(data["model"]["weights"])
    data["sha256"] = payload_digest(data["model"])
    with pytest.raises(ModelFileError, match="features"):
        parse_model(json.dumps(data))  # a feature this module does not compute
    with pytest.raises(ModelFileError, match="not a penalty-link model file"):
        parse_model("[]")


def test_the_shipped_model_is_what_a_refit_on_the_tuned_sample_gives() -> None:
    done = subprocess.run([sys.executable, "benchmarks/penalty_links.py", "--check-model"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "penalty_model.json: same as a refit" in done.stdout


# --------------------------------------------------------------------------- fitting


def test_the_fit_scores_each_pair_by_its_likeliest_match() -> None:
    table = LinkTable(*fixture(), scorer="rules")
    found = table.candidates_of(DOC)
    labels = [int((c.source, c.target) in {(f"{DOC}#art2", f"{DOC}#art7"),
                                           (f"{DOC}#art4", f"{DOC}#art9")}) for c in found]
    model = fit_candidates(found, labels, l2=1.0)
    assert model == fit_candidates(found, labels, l2=1.0)  # deterministic
    assert model.features == FEATURES
    assert likeliest(found, model) == pytest.approx(
        [model.probability(c.best(model).features) for c in found], rel=1e-12)
    some = fit_candidates(found, labels, l2=1.0, features=("coverage", "rule"))
    assert some.features == ("coverage", "rule") and len(some.weights) == 2
    linked = {(c.source, c.target) for c in found
              if model.probability(c.best(model).features) >= 0.5}
    assert linked == {(f"{DOC}#art2", f"{DOC}#art7"), (f"{DOC}#art4", f"{DOC}#art9")}


def test_logistic_regression_without_penalty_finds_the_log_odds() -> None:
    # x = 1: three of four positive; x = 0: one of four → bias ln(1/3), weight 2·ln 3
    rows = [[1.0], [1.0], [1.0], [1.0], [0.0], [0.0], [0.0], [0.0]]
    labels = [1, 1, 1, 0, 1, 0, 0, 0]
    weights, bias = fit_logistic(rows, labels, l2=0.0)
    assert bias == pytest.approx(-math.log(3), abs=1e-5)
    assert weights[0] == pytest.approx(2 * math.log(3), abs=1e-5)
    assert fit_logistic(rows, labels, l2=1.0) == fit_logistic(rows, labels, l2=1.0)
    assert 0 < fit_logistic(rows, labels, l2=1.0)[0][0] < weights[0]  # shrunk


def test_the_threshold_is_the_lowest_that_keeps_the_precision() -> None:
    scored = [(0.9, True), (0.8, True), (0.7, False), (0.6, True), (0.5, False)]
    assert threshold_for(scored, precision=0.75) == 0.6  # 3 of 4 right
    assert threshold_for(scored, precision=0.8) == 0.8  # 2 of 2
    # a threshold takes every pair of its probability
    assert threshold_for([(0.5, True), (0.5, False)], precision=1.0) is None
