"""What a supporter sees around the questions, in their language: who is asking (the
organisation's name and logo), the survey's introduction, where its privacy notice is, and what
the thank-you says. The hosted page, the embed and the public form JSON show the same."""

from __future__ import annotations

from dataclasses import dataclass

from feedback.surveys.definition import label_text
from feedback.surveys.models import Survey
from feedback.surveys.settings import SurveySettings


@dataclass(frozen=True, slots=True)
class Framing:
    org_name: str
    title: str
    description: str | None
    intro: str | None
    thank_you: str | None
    """The campaigner's thank-you; None: the forms' own ("Your answers have been received.")."""
    privacy_url: str | None
    logo_url: str | None


def title_in(survey: Survey, locale: str) -> str:
    """The survey's title in `locale` (a title given per locale, else its one text)."""
    return label_text(survey.title_texts or survey.title, locale, survey.default_locale)


def framing_of(survey: Survey, settings: SurveySettings, *, org_name: str, locale: str) -> Framing:
    """`survey`'s framing in `locale` (`settings` are the survey's, already loaded)."""

    def text(label: str | dict[str, str] | None) -> str | None:
        return None if label is None else label_text(label, locale, survey.default_locale)

    return Framing(
        org_name=org_name,
        title=title_in(survey, locale),
        description=text(survey.description),
        intro=text(settings.intro),
        thank_you=text(settings.thank_you),
        privacy_url=settings.privacy_url,
        logo_url=settings.logo_url,
    )
