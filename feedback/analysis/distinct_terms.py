"""The terms that distinguish a wave's text answers from the previous wave's: log-odds ratios
with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008, "Fightin' Words"),
exactly as docs/statistics.md "Distinctive terms of text answers" defines them.

Counts are of responses: a term counts once per answer that uses it. For term w, with counts y
(this wave, n in all) and y' (previous wave, n' in all), and the prior α_w = α₀·b_w/B from the
counts b of every wave before this one (B in all):

    δ_w = log((y + α_w)/(n + α₀ − y − α_w)) − log((y' + α_w)/(n' + α₀ − y' − α_w))
    σ²_w = 1/(y + α_w) + 1/(y' + α_w),   z_w = δ_w/σ_w

A term no earlier wave used has α_w = 0 and y' = 0, so its δ is infinite and z undefined: it is
reported as new, with its count, instead of being scored. A term that is every term use of a
wave and the whole prior (a vocabulary of one) has no odds either, and is not scored.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ALPHA0 = 500.0
Z_CRITICAL = 1.96
LIMIT = 15


@dataclass(frozen=True, slots=True)
class TermScore:
    """One term's log-odds ratio: `count` answers used it in this wave, `previous_count` in
    the previous one; `prior` is α_w."""

    term: str
    count: int
    previous_count: int
    prior: float
    delta: float
    z: float


@dataclass(frozen=True, slots=True)
class NewTerm:
    term: str
    count: int


@dataclass(frozen=True, slots=True)
class DistinctTerms:
    """`rising`: terms used more in this wave (z ≥ 1.96, highest z first); `falling`: used less
    (z ≤ −1.96, lowest first); `new`: terms no earlier wave used (most used first). Each list
    holds at most `LIMIT` terms, each used by at least `min_n` answers of the two waves."""

    n_terms: int
    previous_n_terms: int
    prior_n_terms: int
    rising: tuple[TermScore, ...]
    falling: tuple[TermScore, ...]
    new: tuple[NewTerm, ...]


def term_counts(answers: Iterable[frozenset[str]]) -> Counter[str]:
    """How many answers use each term (each answer's terms are already distinct)."""
    counts: Counter[str] = Counter()
    for terms in answers:
        counts.update(terms)
    return counts


def log_odds(
    current: Mapping[str, int],
    previous: Mapping[str, int],
    prior: Mapping[str, int],
    *,
    alpha0: float = ALPHA0,
) -> dict[str, TermScore]:
    """Every term of the two waves that the prior knows, scored."""
    n = sum(current.values())
    n_prev = sum(previous.values())
    total = sum(prior.values())
    scores: dict[str, TermScore] = {}
    if total == 0:
        return scores
    for term in current.keys() | previous.keys():
        b = prior.get(term, 0)
        if b == 0:
            continue
        alpha = alpha0 * b / total
        y = current.get(term, 0)
        y_prev = previous.get(term, 0)
        if n - y + alpha0 - alpha <= 0 or n_prev - y_prev + alpha0 - alpha <= 0:
            continue  # the term is every term use and the whole prior: it has no odds
        delta = math.log((y + alpha) / (n + alpha0 - y - alpha)) - math.log(
            (y_prev + alpha) / (n_prev + alpha0 - y_prev - alpha)
        )
        sigma = math.sqrt(1 / (y + alpha) + 1 / (y_prev + alpha))
        scores[term] = TermScore(term, y, y_prev, alpha, delta, delta / sigma)
    return scores


def distinct_terms(
    current: Mapping[str, int],
    previous: Mapping[str, int],
    prior: Mapping[str, int],
    *,
    min_n: int,
    alpha0: float = ALPHA0,
    limit: int = LIMIT,
) -> DistinctTerms:
    """The reported terms: significant (|z| ≥ 1.96) and used by at least `min_n` answers of
    the two waves, at most `limit` each way. Ties are broken by the term, so the answer is the
    same on every run."""
    scores = log_odds(current, previous, prior, alpha0=alpha0)
    common = [s for s in scores.values() if s.count + s.previous_count >= min_n]
    rising = sorted((s for s in common if s.z >= Z_CRITICAL), key=lambda s: (-s.z, s.term))
    falling = sorted((s for s in common if s.z <= -Z_CRITICAL), key=lambda s: (s.z, s.term))
    new = sorted(
        (
            NewTerm(term, count)
            for term, count in current.items()
            if prior.get(term, 0) == 0 and count >= min_n
        ),
        key=lambda t: (-t.count, t.term),
    )
    return DistinctTerms(
        n_terms=sum(current.values()),
        previous_n_terms=sum(previous.values()),
        prior_n_terms=sum(prior.values()),
        rising=tuple(rising[:limit]),
        falling=tuple(falling[:limit]),
        new=tuple(new[:limit]),
    )
