"""Fitting the implicit-link model: logistic regression, refits on likeliest matches, threshold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.links.score import FEATURES, Candidate, Model


def fit_logistic(rows: Sequence[Sequence[float]], labels: Sequence[int], *,
                 l2: float = 1.0, steps: int = 50) -> tuple[tuple[float, ...], float]:
    """Weights and bias of an L2-regularised logistic regression (Newton's method; the
    bias is not penalised): deterministic for the same rows in the same order."""
    x = np.hstack([np.asarray(rows, dtype=np.float64).reshape(len(rows), -1),
                   np.ones((len(rows), 1))])
    y = np.asarray(labels, dtype=np.float64)
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0
    theta = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ theta)))
        gradient = x.T @ (p - y) + penalty * theta
        hessian = (x.T * (p * (1 - p))) @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return tuple(round(float(w), 6) for w in theta[:-1]), round(float(theta[-1]), 6)


def threshold_for(scored: Sequence[tuple[float, bool]], *, precision: float) -> float | None:
    """The lowest probability whose links (all scored at or above it) are right at least
    ``precision`` of the time, which links the most; None when no threshold is."""
    chosen = None
    right = made = 0
    ranked = sorted(scored, key=lambda s: -s[0])
    for at, (chance, correct) in enumerate(ranked):
        right += correct
        made += 1
        if at + 1 < len(ranked) and ranked[at + 1][0] == chance:
            continue  # a threshold takes every pair of the same probability
        if right / made >= precision:
            chosen = chance
    return chosen


def fit_candidates(candidates: Sequence[Candidate], labels: Sequence[int], *,
                   l2: float = 1.0, rounds: int = 10,
                   features: Sequence[str] = FEATURES) -> Model:
    """A model (threshold 0.5) over ``features`` of pairs scored by their likeliest match:
    fitted on each pair's match chosen without a model (:meth:`Candidate.best`), then
    refitted on the matches the fitted model likes best until they stop changing."""
    table = Options(candidates, features)
    chosen = table.starts + np.asarray([c.options.index(c.best()) for c in candidates],
                                       dtype=np.int64)
    model = table.fitted(chosen, labels, l2=l2)
    for _ in range(rounds):
        again = table.likeliest(model)
        if np.array_equal(again, chosen):
            break
        chosen = again
        model = table.fitted(chosen, labels, l2=l2)
    return model


def likeliest(candidates: Sequence[Candidate], model: Model) -> list[float]:
    """Each pair's probability by ``model``: that of its likeliest match."""
    table = Options(candidates, model.features)
    return [float(p) for p in table.probabilities(model)[table.likeliest(model)]]


class Options:
    """Every match of some pairs as one array over some features (fitting's arithmetic)."""

    def __init__(self, candidates: Sequence[Candidate], features: Sequence[str]) -> None:
        self.features = tuple(features)
        columns = [FEATURES.index(f) for f in features]
        sizes = [len(c.options) for c in candidates]
        self.rows = np.asarray([[o.features[i] for i in columns]
                                for c in candidates for o in c.options],
                               dtype=np.float64).reshape(sum(sizes), len(columns))
        self.owner = np.repeat(np.arange(len(candidates)), sizes)
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def probabilities(self, model: Model) -> np.ndarray:
        z = self.rows @ np.asarray(model.weights, dtype=np.float64) + model.bias
        return 1.0 / (1.0 + np.exp(-z))

    def likeliest(self, model: Model) -> np.ndarray:
        """Each pair's likeliest match (row index), the first in order on ties."""
        chance = self.probabilities(model)
        order = np.lexsort((np.arange(len(chance)), -chance, self.owner))
        return order[self.starts]

    def fitted(self, chosen: np.ndarray, labels: Sequence[int], *, l2: float) -> Model:
        weights, bias = fit_logistic(self.rows[chosen], labels, l2=l2)
        return Model(weights, bias, 0.5, self.features)
