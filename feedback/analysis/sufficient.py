"""Sufficient statistics: what one GROUP BY returns, and everything the analysis needs.

Each type holds counts (or moments) for one cell: a question in one wave, optionally one segment
value. The `grouped` constructors take the flat rows of a single aggregate query whose first
column is the cell key (a wave number, or a `(wave, segment)` tuple), so the SQL layer runs one
statement per question and never loads raw answers:

- scales (`likert`, `rating`, `nps`): `SELECT wave, value, count(*) ... GROUP BY wave, value`
  → `ScaleCounts.grouped(rows, scale_min=1, scale_max=5)`
- choices: `SELECT wave, option, count(*) ... GROUP BY wave, option` plus, for multi-choice, the
  number of respondents who answered per wave → `OptionCounts.grouped(rows, options=..., n=...)`
- numbers: `SELECT wave, count(x), sum(x - K), sum((x - K) * (x - K)) ... GROUP BY wave`, K
  one of the answers (or their mean) → `Moments(n, total, total_sq, shift=K)`
- panels: `SELECT a.value, b.value, count(*) ... GROUP BY a.value, b.value` over respondents
  with a current answer in both waves → `PairTable`; numbers give `Moments` of `b.value -
  a.value`; choices give `OptionPairs`.

Arrays are copied on construction and made read-only, so a frozen instance really is immutable.
Malformed input (negative counts, duplicated values, mismatched lengths) raises `ValueError`:
that is a bug in the caller, not a statistical edge case.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

K = TypeVar("K", bound=Hashable)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
A = TypeVar("A", bound=NDArray[Any])

NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6
# Scales shorter than this use only their top point as the "top box".
TOP_TWO_MIN_POINTS = 5

# Below this fraction of the mean square, a variance from (n, Σx, Σx²) cannot be told apart from
# the rounding of the sums themselves, so it is reported as exactly zero (see `Moments`).
VARIANCE_RTOL = 1e-12


def _frozen(array: A, name: str) -> A:
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    array.setflags(write=False)
    return array


def _floats(values: ArrayLike, name: str) -> FloatArray:
    return _frozen(np.array(values, dtype=np.float64, copy=True), name)


def _ints(values: ArrayLike, name: str) -> IntArray:
    return _frozen(np.array(values, dtype=np.int64, copy=True), name)


def _counts(values: ArrayLike, name: str = "counts") -> IntArray:
    array = _ints(values, name)
    if (array < 0).any():
        raise ValueError(f"{name} must not be negative")
    return array


@dataclass(frozen=True, slots=True)
class ScaleCounts:
    """Answers to an integer-scale question (likert, rating, nps) in one cell.

    `values` holds every point of the question's scale in ascending order, including points
    nobody chose; `counts[i]` is the number of answers equal to `values[i]`. Derived figures are
    computed in exact integer arithmetic and rounded once, so two cells with the same rational
    mean get bit-identical floats (Mann–Kendall relies on ties being exact).
    """

    values: IntArray
    counts: IntArray
    # n, Σx and Σx² in exact integers, summed once: a split's figures read them thousands of
    # times a request.
    _sums: tuple[int, int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = _ints(self.values, "values")
        counts = _counts(self.counts)
        if values.shape != counts.shape:
            raise ValueError("values and counts must have the same length")
        if values.size == 0:
            raise ValueError("a scale has at least one point")
        if (np.diff(values) <= 0).any():
            raise ValueError("values must be strictly increasing")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "counts", counts)
        points, tally = values.tolist(), counts.tolist()
        sums = (
            sum(tally),
            sum(v * c for v, c in zip(points, tally, strict=True)),
            sum(v * v * c for v, c in zip(points, tally, strict=True)),
        )
        object.__setattr__(self, "_sums", sums)

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[float, int]], *, scale_min: int, scale_max: int
    ) -> ScaleCounts:
        """Build from `(value, count)` rows; points without a row count zero. Values may come
        back from a numeric column as floats (4.0); they must be whole points of the scale."""
        if scale_max < scale_min:
            raise ValueError("scale_max must not be below scale_min")
        counts = [0] * (scale_max - scale_min + 1)
        for value, count in rows:
            if value != int(value) or not scale_min <= value <= scale_max:
                raise ValueError(
                    f"value {value} is not a point of the scale {scale_min}..{scale_max}"
                )
            counts[int(value) - scale_min] += count
        return cls(np.arange(scale_min, scale_max + 1, dtype=np.int64), np.array(counts))

    @classmethod
    def grouped(
        cls, rows: Iterable[tuple[K, float, int]], *, scale_min: int, scale_max: int
    ) -> dict[K, ScaleCounts]:
        """Split `(key, value, count)` rows of one GROUP BY into one `ScaleCounts` per key."""
        by_key: dict[K, list[tuple[float, int]]] = {}
        for key, value, count in rows:
            by_key.setdefault(key, []).append((value, count))
        return {
            key: cls.from_rows(cell, scale_min=scale_min, scale_max=scale_max)
            for key, cell in by_key.items()
        }

    @classmethod
    def pooled(cls, cells: Sequence[ScaleCounts]) -> ScaleCounts:
        """The counts of every cell's answers together (cells of one question: same points)."""
        if not cells:
            raise ValueError("pooling needs at least one cell")
        values = cells[0].values
        if any(not np.array_equal(c.values, values) for c in cells):
            raise ValueError("only cells of the same scale can be pooled")
        return cls(values, np.sum([c.counts for c in cells], axis=0, dtype=np.int64))

    @property
    def n(self) -> int:
        return self._sums[0]

    @property
    def total(self) -> int:
        """Σx over the answers, exact."""
        return self._sums[1]

    @property
    def mean(self) -> float | None:
        n, total, _ = self._sums
        return total / n if n else None

    @property
    def variance(self) -> float | None:
        """Sample variance (ddof 1) from the exact integer numerator n·Σx² − (Σx)²."""
        n, total, total_sq = self._sums
        if n < 2:
            return None
        return (n * total_sq - total**2) / (n * (n - 1))

    def count_at_least(self, value: int) -> int:
        return int(self.counts[self.values >= value].sum())

    def count_at_most(self, value: int) -> int:
        return int(self.counts[self.values <= value].sum())

    def top_box_count(self) -> int:
        """Answers in the top two points of the scale, or the top point on scales of < 5 points."""
        top = self.values.size >= TOP_TWO_MIN_POINTS
        return int(self.counts[-2:].sum() if top else self.counts[-1])

    def nps_groups(self) -> tuple[int, int, int]:
        """(promoters 9–10, passives 7–8, detractors 0–6) counts of an NPS question."""
        promoters = self.count_at_least(NPS_PROMOTER_MIN)
        detractors = self.count_at_most(NPS_DETRACTOR_MAX)
        return promoters, self.n - promoters - detractors, detractors

    def nps(self) -> tuple[float, float] | None:
        """(NPS, v), v = p_pro + p_det − (p_pro − p_det)² the per-answer variance of the
        promoter (+1) / detractor (−1) score; None without answers.

        NPS is one division of integers, so equal rational values are equal floats.
        """
        n = self.n
        if n == 0:
            return None
        promoters, _, detractors = self.nps_groups()
        net = (promoters - detractors) / n
        v = (promoters + detractors) / n - net * net
        return 100 * (promoters - detractors) / n, max(v, 0.0)

    def distribution(self) -> dict[str, int]:
        """Count per scale point, keyed by the point as a string (JSON object keys)."""
        return {str(int(v)): int(c) for v, c in zip(self.values, self.counts, strict=True)}


@dataclass(frozen=True, slots=True)
class OptionCounts:
    """Answers to a choice question in one cell.

    `counts[i]` is the number of respondents who chose `options[i]`; `n` is the number who
    answered the question. For single choice the counts sum to `n`; for multi-choice they may
    sum to more (each respondent counts once per option chosen) and every count is at most `n`.
    """

    options: tuple[str, ...]
    counts: IntArray
    n: int

    def __post_init__(self) -> None:
        counts = _counts(self.counts)
        if len(self.options) != counts.size:
            raise ValueError("options and counts must have the same length")
        if len(set(self.options)) != len(self.options):
            raise ValueError("options must be distinct")
        if self.n < 0 or (counts > self.n).any():
            raise ValueError("no option can be chosen by more respondents than answered")
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "counts", counts)

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[str, int]], *, options: Sequence[str], n: int | None = None
    ) -> OptionCounts:
        """Build from `(option, count)` rows.

        `options` gives the reporting order (every option of the question, chosen or not); an
        option present in the rows but not listed (one removed from a later version) is appended
        in sorted order rather than dropped. `n=None` means single choice: n is the sum.
        """
        tally: dict[str, int] = dict.fromkeys(options, 0)
        extra: dict[str, int] = {}
        for option, count in rows:
            if option in tally:
                tally[option] += count
            else:
                extra[option] = extra.get(option, 0) + count
        tally.update(sorted(extra.items()))
        counts = np.fromiter(tally.values(), dtype=np.int64, count=len(tally))
        return cls(tuple(tally), counts, int(counts.sum()) if n is None else n)

    @classmethod
    def grouped(
        cls,
        rows: Iterable[tuple[K, str, int]],
        *,
        options: Sequence[str],
        n: Mapping[K, int] | None = None,
    ) -> dict[K, OptionCounts]:
        """Split `(key, option, count)` rows into one `OptionCounts` per key.

        For multi-choice pass `n`, the respondents who answered per key; a key present in `n`
        but without rows (everyone answered, no one ticked anything) still gets its cell.
        """
        by_key: dict[K, list[tuple[str, int]]] = {key: [] for key in (n or {})}
        for key, option, count in rows:
            by_key.setdefault(key, []).append((option, count))
        return {
            key: cls.from_rows(cell, options=options, n=None if n is None else n.get(key, 0))
            for key, cell in by_key.items()
        }

    @classmethod
    def pooled(cls, cells: Sequence[OptionCounts], *, options: Sequence[str]) -> OptionCounts:
        """Every cell's answers together, as `from_rows` counts them with the same `options`:
        the respondents who answered add up (cells hold different respondents), and so does
        each option's count; options not listed are appended in sorted order."""
        rows = [
            (o, int(c)) for cell in cells for o, c in zip(cell.options, cell.counts, strict=True)
        ]
        return cls.from_rows(rows, options=options, n=sum(cell.n for cell in cells))

    def count(self, option: str) -> int:
        return int(self.counts[self.options.index(option)]) if option in self.options else 0

    def distribution(self) -> dict[str, int]:
        return {o: int(c) for o, c in zip(self.options, self.counts, strict=True)}


@dataclass(frozen=True, slots=True)
class Moments:
    """(n, Σ(x − shift), Σ(x − shift)²) of a number question's answers, or of panel differences.

    Precision: the variance is (Σy² − (Σy)²/n)/(n − 1) in float64, y = x − shift. Its relative
    error is about ε·(1 + (mean − shift)²/variance) times the error factor of however the sums
    were accumulated (ε ≈ 1.1e-16; float sums in PostgreSQL and in SQLite before 3.43 are plain
    running sums, so about √n typically). Around zero, answers clustered far from it lose the
    variance entirely (10^6 plus tenths: every digit). So the shift must be close to the
    answers: one of them bounds the loss by how far the mean lies from it in standard deviations
    (the shifted-data algorithm), and their mean removes it; `queries` uses the first and, where
    that is not enough, the second. A variance below `VARIANCE_RTOL` of the mean square is
    indistinguishable from the rounding of the sums and is reported as 0, so constant answers
    never produce a spurious huge t statistic.
    """

    n: int
    total: float
    total_sq: float
    shift: float = 0.0

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("n must not be negative")
        if self.total_sq < 0:
            raise ValueError("a sum of squares cannot be negative")
        if not all(math.isfinite(v) for v in (self.total, self.total_sq, self.shift)):
            raise ValueError("moments must be finite")

    @classmethod
    def pooled(cls, cells: Sequence[Moments]) -> Moments:
        """Every cell's answers together: n and both sums add up. The cells of one question's
        run share their shift; cells summed around different shifts are refused."""
        if not cells:
            raise ValueError("pooling needs at least one cell")
        shift = cells[0].shift
        if any(c.shift != shift for c in cells):
            raise ValueError("only moments around the same shift can be pooled")
        return cls(
            sum(c.n for c in cells),
            math.fsum(c.total for c in cells),
            math.fsum(c.total_sq for c in cells),
            shift,
        )

    @property
    def mean(self) -> float | None:
        return self.shift + self.total / self.n if self.n else None

    @property
    def variance(self) -> float | None:
        """Sample variance, ddof 1; None below two values."""
        if self.n < 2:
            return None
        m2 = self.total_sq - self.total * (self.total / self.n)
        if m2 <= VARIANCE_RTOL * self.total_sq:
            return 0.0
        return m2 / (self.n - 1)

    @property
    def sd(self) -> float | None:
        variance = self.variance
        return None if variance is None else math.sqrt(variance)


@dataclass(frozen=True, slots=True)
class DiffCounts:
    """Paired differences d = to − from, as distinct values with their counts."""

    values: FloatArray
    counts: IntArray

    def __post_init__(self) -> None:
        values = _floats(self.values, "values")
        counts = _counts(self.counts)
        if values.shape != counts.shape:
            raise ValueError("values and counts must have the same length")
        if not np.isfinite(values).all():
            raise ValueError("differences must be finite")
        if np.unique(values).size != values.size:
            raise ValueError("values must be distinct")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "counts", counts)

    @property
    def n(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True, slots=True)
class PairTable:
    """Respondents answering in both panel waves, counted per (from value, to value) pair.

    Values are floats so a number question asked on a discrete grid fits too; scale answers are
    small integers and stay exact.
    """

    from_values: FloatArray
    to_values: FloatArray
    counts: IntArray

    def __post_init__(self) -> None:
        from_values = _floats(self.from_values, "from_values")
        to_values = _floats(self.to_values, "to_values")
        counts = _counts(self.counts)
        if not from_values.shape == to_values.shape == counts.shape:
            raise ValueError("from_values, to_values and counts must have the same length")
        object.__setattr__(self, "from_values", from_values)
        object.__setattr__(self, "to_values", to_values)
        object.__setattr__(self, "counts", counts)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[float, float, int]]) -> PairTable:
        listed = list(rows)
        return cls(
            np.array([r[0] for r in listed], dtype=np.float64),
            np.array([r[1] for r in listed], dtype=np.float64),
            np.array([r[2] for r in listed], dtype=np.int64),
        )

    @property
    def n_pairs(self) -> int:
        return int(self.counts.sum())

    def differences(self) -> DiffCounts:
        d = self.to_values - self.from_values
        values, inverse = np.unique(d, return_inverse=True)
        counts = np.bincount(inverse, weights=self.counts, minlength=values.size)
        return DiffCounts(values, counts.astype(np.int64))


@dataclass(frozen=True, slots=True)
class OptionPairs:
    """Per option, the 2×2 chose / did not choose table of respondents answering in both waves.

    `from_only[i]` chose option i in the from wave but not in the to wave (McNemar's b),
    `to_only[i]` the reverse (c); `both[i]` chose it in both; the rest of `n_pairs` in neither.
    """

    options: tuple[str, ...]
    n_pairs: int
    both: IntArray
    from_only: IntArray
    to_only: IntArray

    def __post_init__(self) -> None:
        both = _counts(self.both, "both")
        from_only = _counts(self.from_only, "from_only")
        to_only = _counts(self.to_only, "to_only")
        if not len(self.options) == both.size == from_only.size == to_only.size:
            raise ValueError("options and the three count arrays must have the same length")
        if len(set(self.options)) != len(self.options):
            raise ValueError("options must be distinct")
        if (both + from_only + to_only > self.n_pairs).any():
            raise ValueError("an option's table cannot hold more pairs than n_pairs")
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "both", both)
        object.__setattr__(self, "from_only", from_only)
        object.__setattr__(self, "to_only", to_only)

    @property
    def neither(self) -> IntArray:
        return self.n_pairs - self.both - self.from_only - self.to_only

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[tuple[str, bool, bool, int]],
        *,
        options: Sequence[str],
        n_pairs: int,
    ) -> OptionPairs:
        """Multi-choice: `(option, chose in from wave, chose in to wave, count)` rows.

        Rows for pairs that chose the option in neither wave may be given or left out: that cell
        is n_pairs minus the other three.
        """
        index = {o: i for i, o in enumerate(options)}
        tables = np.zeros((len(options), 3), dtype=np.int64)
        for option, chose_from, chose_to, count in rows:
            if option not in index:
                raise ValueError(f"unknown option {option!r}")
            if chose_from or chose_to:
                column = 0 if chose_from and chose_to else 1 if chose_from else 2
                tables[index[option], column] += count
        return cls(tuple(options), n_pairs, tables[:, 0], tables[:, 1], tables[:, 2])

    def restricted(self, options: Collection[str]) -> OptionPairs:
        """The same pairs, tested for `options` only (in this order of `self.options`)."""
        index = [i for i, o in enumerate(self.options) if o in options]
        return OptionPairs(
            tuple(self.options[i] for i in index),
            self.n_pairs,
            self.both[index],
            self.from_only[index],
            self.to_only[index],
        )

    @classmethod
    def from_single_choice(
        cls, rows: Iterable[tuple[str, str, int]], *, options: Sequence[str]
    ) -> OptionPairs:
        """Single choice: `(option in from wave, option in to wave, count)` rows."""
        listed = list(rows)
        names = list(options) + sorted({o for r in listed for o in r[:2]} - set(options))
        index = {o: i for i, o in enumerate(names)}
        both = np.zeros(len(names), dtype=np.int64)
        from_only = np.zeros(len(names), dtype=np.int64)
        to_only = np.zeros(len(names), dtype=np.int64)
        for before, after, count in listed:
            if before == after:
                both[index[before]] += count
            else:
                from_only[index[before]] += count
                to_only[index[after]] += count
        return cls(tuple(names), sum(r[2] for r in listed), both, from_only, to_only)
