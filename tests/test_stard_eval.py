"""benchmarks/stard_eval.py --tune: weights are chosen on train (k-fold CV inside it) and
never on dev, the questions it reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import stard
import stard_eval


def questions_file(path: Path, ids: range) -> Path:
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": f"问题{i}", "gold": []},
                                       ensure_ascii=False) + "\n" for i in ids), "utf-8")
    return path


def test_tuning_defaults_to_train_in_five_folds(tmp_path: Path) -> None:
    dev = questions_file(tmp_path / "dev.jsonl", range(0, 10))
    args = stard_eval.parse_args(["--tune", "--questions", str(dev), "--tune-on",
                                  str(questions_file(tmp_path / "train.jsonl", range(10, 40)))])
    assert args.tune and args.folds == 5
    assert stard_eval.parse_args([]).tune_on == stard.TRAIN


def test_tuning_on_dev_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        stard_eval.parse_args(["--tune", "--tune-on", str(stard.DEV)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "dev is reported, never tuned on" in err and "train.jsonl" in err


def test_tuning_on_questions_that_are_reported_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reported = questions_file(tmp_path / "reported.jsonl", range(0, 10))
    overlapping = questions_file(tmp_path / "mine.jsonl", range(8, 30))
    for tune_on in (reported, overlapping):
        with pytest.raises(SystemExit):
            stard_eval.parse_args(["--tune", "--questions", str(reported),
                                   "--tune-on", str(tune_on)])
        assert "never tuned on the questions that are reported" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        stard_eval.parse_args(["--tune", "--questions", str(reported), "--folds", "1",
                               "--tune-on", str(questions_file(tmp_path / "t.jsonl",
                                                               range(20, 30)))])
    assert "at least 2 folds" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        stard_eval.parse_args(["--tune", "--questions", str(reported),
                               "--tune-on", str(tmp_path / "missing.jsonl")])
    assert "missing.jsonl: no such questions file" in capsys.readouterr().err


def test_folds_partition_the_questions() -> None:
    fold = stard.folds_of(23, 5, seed=1)
    assert sorted(set(fold.tolist())) == [0, 1, 2, 3, 4]
    assert sorted(int((fold == k).sum()) for k in range(5)) == [4, 4, 5, 5, 5]
    assert (fold == stard.folds_of(23, 5, seed=1)).all()
    with pytest.raises(ValueError):
        stard.folds_of(3, 5)


def test_each_fold_is_scored_on_questions_its_search_never_saw(
        monkeypatch: pytest.MonkeyPatch) -> None:
    searched: list[list[int]] = []
    scored: list[list[str]] = []

    def search(index: Any, runs: Any, questions: Any, rows: list[int], base: Any) -> Any:
        searched.append(sorted(rows))
        return base

    def evaluate(index: Any, runs: Any, questions: Any, fusion: Any, channels: Any) -> Any:
        scored.append([q["id"] for q in questions])
        return {"R@10": 0.0}

    monkeypatch.setattr(stard_eval, "search", search)
    monkeypatch.setattr(stard_eval, "evaluate", evaluate)
    monkeypatch.setattr(stard_eval, "describe", lambda fusion: "")
    train = [{"id": f"t{i}"} for i in range(12)]
    stard_eval.tune(None, list(range(12)), train, stard_eval.PLAIN, folds=3)
    assert len(searched) == 4 and searched[-1] == list(range(12))  # 3 folds, then all
    for rows, held in zip(searched[:3], scored, strict=True):
        assert not {f"t{i}" for i in rows} & set(held)
        assert len(rows) + len(held) == 12
    assert sorted(q for held in scored for q in held) == sorted(q["id"] for q in train)


def test_reranker_cv_early_stops_on_an_inner_split_never_on_the_scored_fold(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np
    import train_retrieval

    seen: list[tuple[list[int], list[int]]] = []
    scored: list[list[int]] = []

    class Booster:
        best_iteration = 7

    def fit(data, ids, params, rounds, valid=None, drop=()):  # type: ignore[no-untyped-def]
        seen.append((list(ids), list(valid or [])))
        return Booster()

    def reranked(data, chosen, questions, booster, drop=(), keep=0):  # type: ignore[no-untyped-def]
        assert keep == 3  # scored as the product re-orders
        scored.append(list(chosen))
        return [{"R@10": 1.0} for _ in chosen]

    monkeypatch.setattr(train_retrieval, "fit", fit)
    monkeypatch.setattr(train_retrieval, "reranked_scores", reranked)
    data = [(None, np.ones(3), None) for _ in range(50)]
    folds = stard.folds_of(50, train_retrieval.FOLDS, 7)
    _, rounds = train_retrieval.cross_validate_reranker(data, folds, [{}] * 50, {}, keep=3)
    assert rounds == 7 and len(seen) == len(scored) == train_retrieval.FOLDS
    for (train, stop), held in zip(seen, scored, strict=True):
        assert stop and train and not set(stop) & set(train)
        assert not (set(stop) | set(train)) & set(held)  # the scored fold is never looked at
        assert sorted(set(stop) | set(train) | set(held)) == list(range(50))


def test_a_deeper_reranker_pool_is_measured_never_written(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """--depth (candidates per channel for the pools) goes with --check: the product
    searches Fusion.depth deep, so a reranker trained on deeper pools is never written."""
    import train_retrieval

    monkeypatch.setattr(sys, "argv", ["train_retrieval.py", "--pool", "400", "--depth", "400"])
    with pytest.raises(SystemExit) as refused:
        train_retrieval.main()
    assert refused.value.code == 2
    assert "--depth 400 goes with --check" in capsys.readouterr().err
