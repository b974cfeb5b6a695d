"""Imports every ORM module so `Base.metadata` knows all tables (Alembic and tests use it)."""

from feedback.analysis import models as analysis_models
from feedback.loop import models as loop_models
from feedback.orgs import models as orgs_models
from feedback.responses import models as responses_models
from feedback.surveys import models as surveys_models

__all__ = ["analysis_models", "loop_models", "orgs_models", "responses_models", "surveys_models"]
