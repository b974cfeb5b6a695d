"""Plain sentences for a question's figures: every trend and change says what it means.

"“I trust the organisation to act on my views”: the average answer went from 3.1 to 3.4 out of
5 between May 2025 and June 2025, a difference too small to tell from chance." The sentences are
those of the findings (`feedback.loop.sentences`, in the languages the hosted form speaks);
this module only picks the facts: a significant change (BH q ≤ 0.05) of a mean, an NPS or an
option's share (a single-choice change: the option that moved most) rose or fell, another was
too small to tell from chance; a trend (Mann–Kendall p < 0.05) has been rising or falling,
another shows no clear rise or fall. The test names and p-values stay in the figures beside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo

from feedback.analysis.figures import Figures, QuestionTrends, RunFigures, WaveFigures
from feedback.analysis.results import TrendTest, WaveEstimate
from feedback.loop.sentences import (
    ChangeFacts,
    Direction,
    Facts,
    FlatFacts,
    LocalisedText,
    Period,
    SteadyFacts,
    Subject,
    TrendFacts,
    sentence,
)
from feedback.surveys.definition import (
    LikertQuestion,
    MultiChoiceQuestion,
    Question,
    RatingQuestion,
    SingleChoiceQuestion,
)


def subject_of(question: QuestionTrends, series: int | None, option: str | None) -> Subject:
    """Labels in every locale: the newest definition of the question (as the trends name it),
    an option's from the newest definition that has it."""
    meta = question.meta
    metric = question.metric
    assert metric is not None
    asked = meta.series[series] if series is not None else None
    defined: Question = asked or meta.question
    scale = None
    if metric == "mean" and isinstance(defined, LikertQuestion | RatingQuestion):
        scale = (defined.scale.min, defined.scale.max)
    option_label: LocalisedText | None = None
    if option is not None:
        option_label = option
        for candidate in (meta.question, *reversed(meta.series)):
            if isinstance(candidate, SingleChoiceQuestion | MultiChoiceQuestion):
                found = next((o.label for o in candidate.options if o.key == option), None)
                if found is not None:
                    option_label = found
                    break
    return Subject(label=meta.question.label, metric=metric, option=option_label, scale=scale)


def period_of(entry: WaveFigures, zone: tzinfo) -> Period:
    return Period(entry.wave.label, entry.wave.opens_at, zone)


@dataclass(frozen=True, slots=True)
class Summaries:
    """The sentences of one figure set of a question, in `locale` (the survey's
    `default_locale` names the text of a plain-string label)."""

    question: QuestionTrends
    figures: Figures
    locale: str
    default_locale: str
    zone: tzinfo
    named: bool = True
    # The shown entries by (wave, run), the first of each: every change sentence looks up its
    # previous wave, and scanning the waves for it was quadratic in them.
    _shown: dict[tuple[int, int | None], WaveFigures] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shown: dict[tuple[int, int | None], WaveFigures] = {}
        for entry in self.figures.waves:
            if entry.shown:
                shown.setdefault((entry.wave.number, entry.series), entry)
        object.__setattr__(self, "_shown", shown)

    def change(self, entry: WaveFigures, option: str | None = None) -> str | None:
        """The change of a mean or NPS wave from its previous comparable wave; for a choice
        question, of one option's share (`option`, a multi-choice option's own test), or, for
        the single-choice test of the whole distribution, of the option that moved most."""
        metric = self.question.metric
        if metric is None or (option is not None and metric != "share"):
            return None
        test = entry.change if option is None else (entry.option_changes or {}).get(option)
        if test is None or test.p is None:
            return None
        before = self._shown.get((test.from_wave, entry.series))
        if before is None:
            return None
        if metric == "share" and option is None:
            option = _moved_most(before.estimate, entry.estimate)
            if option is None:
                return None
        a, b = _value(before.estimate, option), _value(entry.estimate, option)
        if a is None or b is None:
            return None
        subject = subject_of(self.question, entry.series, option)
        since, until = period_of(before, self.zone), period_of(entry, self.zone)
        facts: Facts
        if test.significant and a != b:
            direction: Direction = "increasing" if b > a else "decreasing"
            facts = ChangeFacts(subject, direction, since, until, a, b)
        else:
            facts = SteadyFacts(subject, since, until, a, b)
        return self._say(facts)

    def trend(self, run: RunFigures, option: str | None = None) -> str | None:
        """A run's trend (an option's, for a share), or None when no test ran."""
        test = run.trend if option is None else (run.option_trends or {}).get(option)
        if not isinstance(test, TrendTest):
            return None
        points = self._points(run, option)[-test.waves :]
        if not points:
            return None
        first, last = points[0], points[-1]
        subject = subject_of(self.question, run.index, option)
        since = period_of(first[0], self.zone)
        facts: Facts
        if test.direction == "no trend":
            facts = FlatFacts(subject, since, test.waves, first[1], last[1])
        else:
            facts = TrendFacts(subject, test.direction, since, test.waves, first[1], last[1])
        return self._say(facts)

    def _points(self, run: RunFigures, option: str | None) -> list[tuple[WaveFigures, float]]:
        """The shown values the trend ran over: the run's, or an option's share in every run up
        to this one (its series may span breaks), the later run's at a straddled wave."""
        by_wave: dict[int, tuple[WaveFigures, float]] = {}
        for entry in self.figures.waves:
            if entry.series is None or not entry.shown:
                continue
            if option is None and entry.series != run.index:
                continue
            if entry.series > run.index:
                continue
            value = _value(entry.estimate, option)
            if value is not None:
                by_wave[entry.wave.number] = (entry, value)
        return [by_wave[w] for w in sorted(by_wave)]

    def _say(self, facts: Facts) -> str:
        return sentence(facts, self.locale, self.default_locale, named=self.named)


def _value(estimate: WaveEstimate, option: str | None) -> float | None:
    if option is None:
        return estimate.estimate
    share = (estimate.options or {}).get(option)
    return None if share is None else share.estimate


def _moved_most(before: WaveEstimate, after: WaveEstimate) -> str | None:
    """The option whose share changed most between two waves (the first of equals)."""
    moves = [
        (abs(b - a), key)
        for key in (after.options or {})
        if (a := _value(before, key)) is not None and (b := _value(after, key)) is not None
    ]
    return max(moves, key=lambda m: m[0])[1] if moves else None


def summaries_of(
    question: QuestionTrends,
    figures: Figures,
    locale: str,
    zone: tzinfo,
    *,
    named: bool = True,
    default_locale: str | None = None,
) -> Summaries:
    """The sentences in `locale` (the reader's, among the survey's languages), labels without
    a text in it in `default_locale` (the survey's; `locale` when not given), the question's
    label in front unless not `named`."""
    return Summaries(question, figures, locale, default_locale or locale, zone, named)
