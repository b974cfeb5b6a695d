"""The messages a supporter reads come from the catalogue of the form's language: a Spanish
form's validation messages are Spanish, on the hosted page and through the JSON API the embed
posts to."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import make_org
from tests.builders.surveys import make_survey
from tests.forms.dom import parse

Client = AsyncTestClient[Litestar]
DEFINITION: dict[str, Any] = {
    "questions": [
        {
            "key": "nps",
            "type": "nps",
            "label": {"es": "¿Nos recomendaría?", "en": "Would you recommend us?"},
            "required": True,
        },
        {
            "key": "hours",
            "type": "number",
            "label": {"es": "Horas", "en": "Hours"},
            "min": 0,
            "max": 168,
        },
    ]
}


async def _spanish_survey(client: Client) -> None:
    org = await make_org(client)
    await make_survey(
        client, org, definition=DEFINITION, default_locale="es", settings={"locales": ["en"]}
    )


async def test_a_spanish_hosted_form_explains_its_errors_in_spanish(client: Client) -> None:
    await _spanish_survey(client)
    page = parse((await client.get("/f/acme/pulse")).text)
    hidden = {n["name"]: n["value"] for n in page.find_all("input", type="hidden")}
    assert hidden["_locale"] == "es"

    sent = await client.post("/f/acme/pulse", data={**hidden, "hours": "900"})

    assert sent.status_code == 422
    doc = parse(sent.text)
    assert doc.find("h2", id="fb-summary-title").text == "Hay un problema"
    summary = [li.text for li in doc.by_id("fb-summary").find_all("li")]
    assert summary == [
        "¿Nos recomendaría?: es obligatoria",
        "Horas: debe ser un número de 0 a 168",
    ]
    # In the words shown; aria-required is an attribute's name, in no language.
    assert "required" not in doc.text and "must be" not in doc.text


async def test_the_json_api_answers_in_the_submissions_locale(client: Client) -> None:
    await _spanish_survey(client)

    async def errors(locale: str) -> list[dict[str, str]]:
        sent = await client.post(
            "/api/v1/public/acme/pulse/responses",
            json={
                "response_id": str(uuid.uuid4()),
                "version": 1,
                "answers": {"nps": 11, "hours": 1.5, "extra": 1},
                "locale": locale,
                "channel": "embed",
            },
        )
        assert sent.status_code == 422, sent.text
        return [{k: e[k] for k in ("pointer", "message")} for e in sent.json()["errors"]]

    assert await errors("es") == [
        {"pointer": "/answers/extra", "message": "no es una pregunta de esta versión"},
        {"pointer": "/answers/nps", "message": "debe ser un número entero de 0 a 10"},
    ]
    assert await errors("en") == [
        {"pointer": "/answers/extra", "message": "is not a question of this version"},
        {"pointer": "/answers/nps", "message": "must be an integer from 0 to 10"},
    ]
