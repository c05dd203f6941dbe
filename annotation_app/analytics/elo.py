"""Human-preference leaderboard: a Bradley–Terry fit of pairwise judgments, reported as Elo.

P(i beats j) = p_i / (p_i + p_j). Elo = 1000 + 400·log10(p_i), with the log-strengths centred so
the models' mean Elo is 1000; a 400-point gap means 10:1 odds. Outcome rules (stated on the
leaderboard page as TREATMENT):

- `a` / `b`: a win for that model;
- `tie` (both good) and `tie_bad` (both bad): half a win for each model;
- `dont_know`: dropped, counted in no game.

The fit is Hunter's (2004) minorise–maximise iteration. Each model also plays one virtual tied
game against a reference of strength 1 (the centre), which keeps a model that never won (or
never lost) at a finite rating and joins otherwise disconnected groups of models. Intervals are
percentile bootstrap 95 % intervals over judgments resampled with replacement.

Pure numpy: no Django import here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

WINNERS = ("a", "b", "tie", "tie_bad", "dont_know")
SCORE_OF_A = {"a": 1.0, "b": 0.0, "tie": 0.5, "tie_bad": 0.5}
TREATMENT = (
    "A win counts 1 for the winner. Both ties — 'tie' (both good) and 'tie_bad' (both bad) — "
    "count as half a win for each model. 'Don't know' judgments are dropped. Each model also "
    "plays one virtual tie against the centre (Elo 1000) so that every rating is finite."
)
PRIOR_GAMES = 1.0
ELO_CENTRE = 1000.0
ELO_SCALE = 400.0


@dataclass(frozen=True)
class Judgment:
    model_a: str
    model_b: str
    winner: str  # one of WINNERS, in model terms


@dataclass(frozen=True)
class Rating:
    rank: int
    name: str
    elo: float
    low: float  # bootstrap 2.5th percentile
    high: float  # bootstrap 97.5th percentile
    games: int  # judgments counted (dont_know excluded)
    score: float  # wins + half the ties


@dataclass(frozen=True)
class Leaderboard:
    ratings: list[Rating]
    judgments_used: int
    judgments_dropped: int
    bootstrap_samples: int


def judgment_check(*, model_a: str, model_b: str, winner: str) -> Judgment:
    """One judgment, validated; raises ValueError with one sentence for bad input."""
    model_a, model_b, winner = model_a.strip(), model_b.strip(), winner.strip().lower()
    if not model_a or not model_b:
        raise ValueError("a judgment names no model")
    if model_a == model_b:
        raise ValueError(f"model '{model_a}' is compared with itself")
    if winner not in WINNERS:
        raise ValueError(f"winner '{winner}' is not one of {', '.join(WINNERS)}")
    return Judgment(model_a=model_a, model_b=model_b, winner=winner)


def bradley_terry_strengths(scores: np.ndarray, *, tol: float = 1e-10, max_iter: int = 20_000) -> np.ndarray:
    """Log10 strengths, centred at 0, from `scores[i, j]` = points i took from its games with j.

    Games between i and j are scores[i, j] + scores[j, i] (a tie puts 0.5 in each cell).
    """
    games = scores + scores.T
    wins = scores.sum(axis=1) + 0.5 * PRIOR_GAMES
    p = np.ones(len(scores))
    for _ in range(max_iter):
        denominator = (games / (p[:, None] + p[None, :])).sum(axis=1) + PRIOR_GAMES / (p + 1.0)
        updated = wins / denominator
        updated /= np.exp(np.log(updated).mean())
        converged = np.max(np.abs(np.log(updated) - np.log(p))) < tol
        p = updated
        if converged:
            break
    log10_p = np.log10(p)
    return log10_p - log10_p.mean()


def elo_leaderboard(*, judgments: Iterable[Judgment], bootstrap: int = 200, seed: int = 0) -> Leaderboard:
    """Elo ratings with bootstrap intervals, best first."""
    all_judgments = list(judgments)
    kept = [j for j in all_judgments if j.winner != "dont_know"]
    names = sorted({j.model_a for j in kept} | {j.model_b for j in kept})
    if not names:
        return Leaderboard([], 0, len(all_judgments), bootstrap)
    index = {name: i for i, name in enumerate(names)}
    a = np.array([index[j.model_a] for j in kept])
    b = np.array([index[j.model_b] for j in kept])
    score_a = np.array([SCORE_OF_A[j.winner] for j in kept])
    elo = _elo(_score_matrix(len(names), a, b, score_a))
    samples = _bootstrap(len(names), a, b, score_a, bootstrap=bootstrap, seed=seed)
    low, high = (np.percentile(samples, [2.5, 97.5], axis=0) if bootstrap else (elo, elo))
    games = np.bincount(a, minlength=len(names)) + np.bincount(b, minlength=len(names))
    points = np.bincount(a, weights=score_a, minlength=len(names)) + np.bincount(
        b, weights=1.0 - score_a, minlength=len(names)
    )
    order = sorted(range(len(names)), key=lambda i: (-elo[i], names[i]))
    ratings = [
        Rating(rank, names[i], float(elo[i]), float(low[i]), float(high[i]), int(games[i]), float(points[i]))
        for rank, i in enumerate(order, start=1)
    ]
    return Leaderboard(ratings, len(kept), len(all_judgments) - len(kept), bootstrap)


def _score_matrix(n: int, a: np.ndarray, b: np.ndarray, score_a: np.ndarray) -> np.ndarray:
    scores = np.zeros((n, n))
    np.add.at(scores, (a, b), score_a)
    np.add.at(scores, (b, a), 1.0 - score_a)
    return scores


def _elo(scores: np.ndarray) -> np.ndarray:
    return ELO_CENTRE + ELO_SCALE * bradley_terry_strengths(scores)


def _bootstrap(n, a, b, score_a, *, bootstrap: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    samples = np.empty((bootstrap, n))
    for k in range(bootstrap):
        pick = rng.integers(0, len(a), size=len(a))
        samples[k] = _elo(_score_matrix(n, a[pick], b[pick], score_a[pick]))
    return samples
