"""The forms' own words (buttons, hints, errors, thank-you) in several languages, and the choice
of the language a supporter sees.

Survey texts come from the survey's definition in the survey's locales; these strings frame them.
The embed script receives the same table (`embed.py` writes it into the script), so the hosted
page and the embedded form speak alike. `{n}`, `{min}`, `{max}` and `{date}` are filled in by
whoever shows the string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from feedback.surveys.definition import match_locale

FALLBACK = "en"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "link_invalid": "This personal link is not valid; check that you opened all of it.",
        "submit": "Submit",
        "next_page": "Next",
        "sending": "Sending…",
        "required": "Required",
        "error": "Error",
        "error_summary": "There is a problem",
        "thank_you": "Thank you",
        "thank_you_body": "Your answers have been received.",
        "already_sent": "We had already received your answers from this form.",
        "closed": "This survey is closed",
        "closed_next": "It opens again on {date}.",
        "closed_never": "It is not accepting answers at the moment.",
        "not_found": "Survey not found",
        "not_found_body": "Check the link you followed; this survey does not exist.",
        "load_failed": "The survey could not be loaded. Please try again later.",
        "send_failed": "Your answers could not be sent. Please try again.",
        "queued": "You are offline. Your answers are saved on this device and will be sent "
        "when you are back online.",
        "choose_up_to": "Choose up to {n}.",
        "max_chars": "Up to {n} characters.",
        "number_range": "A number from {min} to {max}.",
        "number_min": "A number of at least {min}.",
        "number_max": "A number of at most {max}.",
        "nps_low": "Not at all likely",
        "nps_high": "Extremely likely",
        "language_name": "English",
        "results_heading": "You said, we did",
        "results_description": "What supporters told us in “{title}”, and what we did about it.",
        "you_said": "What you told us",
        "we_did": "What we did",
        "results_by_round": "Results by round, newest first",
        "round": "Round",
        "result": "Result",
        "decided_on": "Decided on {date}",
        "in_answer_to": "Because you told us:",
        "no_decisions": "No decisions have been published yet.",
        "suppression_note": "Results appear when a round closes. A round with fewer than {n} "
        "answers is not shown, to protect the privacy of those who answered.",
        "results_link": "See what we did with your answers",
        "not_ready": "This survey is not open yet",
        "not_ready_body": "It has not been published. Please try again later.",
        "too_many": "Too many attempts",
        "too_many_body": "Please wait {n} seconds and try again.",
        "too_large": "Your answers are too long to send",
        "too_large_body": "Please shorten your longest answers and send the form again.",
        "bad_request": "This page could not be shown",
        "bad_request_body": "The link or the form sent was not understood. Please open the survey "
        "again.",
        "server_error": "Something went wrong on our side",
        "server_error_body": "Your answers may not have been saved. Please try again in a moment.",
        "results_failed": "The results could not be loaded.",
        "results_not_found": "No public results",
        "results_not_found_body": "This survey has not published any results.",
        "other_languages": "Also in:",
        "date": "{day} {month} {year}",
    },
    "nl": {
        "link_invalid": "Deze persoonlijke link is niet geldig; controleer of je de hele link "
        "hebt geopend.",
        "submit": "Versturen",
        "next_page": "Volgende",
        "sending": "Bezig met versturen…",
        "required": "Verplicht",
        "error": "Fout",
        "error_summary": "Er is een probleem",
        "thank_you": "Bedankt",
        "thank_you_body": "Je antwoorden zijn ontvangen.",
        "already_sent": "We hadden je antwoorden op dit formulier al ontvangen.",
        "closed": "Deze enquête is gesloten",
        "closed_next": "Hij gaat weer open op {date}.",
        "closed_never": "Er kunnen op dit moment geen antwoorden worden gegeven.",
        "not_found": "Enquête niet gevonden",
        "not_found_body": "Controleer de link die je hebt gevolgd; deze enquête bestaat niet.",
        "load_failed": "De enquête kon niet worden geladen. Probeer het later opnieuw.",
        "send_failed": "Je antwoorden konden niet worden verstuurd. Probeer het opnieuw.",
        "queued": "Je bent offline. Je antwoorden zijn op dit apparaat bewaard en worden "
        "verstuurd zodra je weer online bent.",
        "choose_up_to": "Kies er maximaal {n}.",
        "max_chars": "Maximaal {n} tekens.",
        "number_range": "Een getal van {min} tot en met {max}.",
        "number_min": "Een getal van minstens {min}.",
        "number_max": "Een getal van hoogstens {max}.",
        "nps_low": "Zeer onwaarschijnlijk",
        "nps_high": "Zeer waarschijnlijk",
        "language_name": "Nederlands",
        "results_heading": "Jullie zeiden, wij deden",
        "results_description": "Wat supporters ons vertelden in “{title}”, en wat we ermee "
        "hebben gedaan.",
        "you_said": "Wat je ons vertelde",
        "we_did": "Wat we hebben gedaan",
        "results_by_round": "Resultaten per ronde, nieuwste eerst",
        "round": "Ronde",
        "result": "Resultaat",
        "decided_on": "Besloten op {date}",
        "in_answer_to": "Omdat je ons vertelde:",
        "no_decisions": "Er zijn nog geen besluiten gepubliceerd.",
        "suppression_note": "Resultaten verschijnen als een ronde sluit. Een ronde met minder "
        "dan {n} antwoorden tonen we niet, om de privacy van wie antwoordde te beschermen.",
        "results_link": "Bekijk wat we met je antwoorden hebben gedaan",
        "not_ready": "Deze enquête is nog niet open",
        "not_ready_body": "Ze is nog niet gepubliceerd. Probeer het later opnieuw.",
        "too_many": "Te veel pogingen",
        "too_many_body": "Wacht {n} seconden en probeer het opnieuw.",
        "too_large": "Je antwoorden zijn te lang om te versturen",
        "too_large_body": "Maak je langste antwoorden korter en verstuur het formulier opnieuw.",
        "bad_request": "Deze pagina kon niet worden getoond",
        "bad_request_body": "De link of het verstuurde formulier werd niet begrepen. Open de "
        "enquête opnieuw.",
        "server_error": "Er ging bij ons iets mis",
        "server_error_body": "Je antwoorden zijn misschien niet opgeslagen. Probeer het zo meteen "
        "opnieuw.",
        "results_failed": "De resultaten konden niet worden geladen.",
        "results_not_found": "Geen openbare resultaten",
        "results_not_found_body": "Deze enquête heeft geen resultaten gepubliceerd.",
        "other_languages": "Ook beschikbaar in:",
        "date": "{day} {month} {year}",
    },
    "de": {
        "link_invalid": "Dieser persönliche Link ist ungültig; bitte prüfen Sie, ob Sie ihn "
        "vollständig geöffnet haben.",
        "submit": "Absenden",
        "next_page": "Weiter",
        "sending": "Wird gesendet…",
        "required": "Pflichtfeld",
        "error": "Fehler",
        "error_summary": "Es gibt ein Problem",
        "thank_you": "Vielen Dank",
        "thank_you_body": "Ihre Antworten sind eingegangen.",
        "already_sent": "Ihre Antworten aus diesem Formular lagen uns bereits vor.",
        "closed": "Diese Umfrage ist geschlossen",
        "closed_next": "Sie öffnet wieder am {date}.",
        "closed_never": "Derzeit werden keine Antworten angenommen.",
        "not_found": "Umfrage nicht gefunden",
        "not_found_body": "Bitte prüfen Sie den Link; diese Umfrage gibt es nicht.",
        "load_failed": "Die Umfrage konnte nicht geladen werden. Bitte versuchen Sie es später.",
        "send_failed": "Ihre Antworten konnten nicht gesendet werden. Bitte versuchen Sie es "
        "erneut.",
        "queued": "Sie sind offline. Ihre Antworten sind auf diesem Gerät gespeichert und werden "
        "gesendet, sobald Sie wieder online sind.",
        "choose_up_to": "Wählen Sie bis zu {n}.",
        "max_chars": "Bis zu {n} Zeichen.",
        "number_range": "Eine Zahl von {min} bis {max}.",
        "number_min": "Eine Zahl von mindestens {min}.",
        "number_max": "Eine Zahl von höchstens {max}.",
        "nps_low": "Sehr unwahrscheinlich",
        "nps_high": "Äußerst wahrscheinlich",
        "language_name": "Deutsch",
        "results_heading": "Sie sagten, wir handelten",
        "results_description": "Was Unterstützer uns in „{title}“ gesagt haben, und was wir "
        "daraus gemacht haben.",
        "you_said": "Was Sie uns gesagt haben",
        "we_did": "Was wir getan haben",
        "results_by_round": "Ergebnisse je Runde, neueste zuerst",
        "round": "Runde",
        "result": "Ergebnis",
        "decided_on": "Beschlossen am {date}",
        "in_answer_to": "Weil Sie uns gesagt haben:",
        "no_decisions": "Es wurden noch keine Entscheidungen veröffentlicht.",
        "suppression_note": "Ergebnisse erscheinen, wenn eine Runde endet. Eine Runde mit "
        "weniger als {n} Antworten zeigen wir nicht, um die Privatsphäre der Antwortenden zu "
        "schützen.",
        "results_link": "Sehen Sie, was wir mit Ihren Antworten gemacht haben",
        "not_ready": "Diese Umfrage ist noch nicht geöffnet",
        "not_ready_body": "Sie wurde noch nicht veröffentlicht. Bitte versuchen Sie es später "
        "erneut.",
        "too_many": "Zu viele Versuche",
        "too_many_body": "Bitte warten Sie {n} Sekunden und versuchen Sie es erneut.",
        "too_large": "Ihre Antworten sind zu lang zum Senden",
        "too_large_body": "Bitte kürzen Sie Ihre längsten Antworten und senden Sie das Formular "
        "erneut.",
        "bad_request": "Diese Seite konnte nicht angezeigt werden",
        "bad_request_body": "Der Link oder das gesendete Formular wurde nicht verstanden. Bitte "
        "öffnen Sie die Umfrage erneut.",
        "server_error": "Bei uns ist etwas schiefgegangen",
        "server_error_body": "Ihre Antworten wurden möglicherweise nicht gespeichert. Bitte "
        "versuchen Sie es gleich noch einmal.",
        "results_failed": "Die Ergebnisse konnten nicht geladen werden.",
        "results_not_found": "Keine öffentlichen Ergebnisse",
        "results_not_found_body": "Diese Umfrage hat keine Ergebnisse veröffentlicht.",
        "other_languages": "Weitere Sprachen:",
        "date": "{day}. {month} {year}",
    },
    "fr": {
        "link_invalid": "Ce lien personnel n'est pas valide ; vérifiez que vous l'avez ouvert "
        "en entier.",
        "submit": "Envoyer",
        "next_page": "Suivant",
        "sending": "Envoi en cours…",
        "required": "Obligatoire",
        "error": "Erreur",
        "error_summary": "Il y a un problème",
        "thank_you": "Merci",
        "thank_you_body": "Vos réponses ont bien été reçues.",
        "already_sent": "Nous avions déjà reçu vos réponses à ce formulaire.",
        "closed": "Ce questionnaire est fermé",
        "closed_next": "Il rouvrira le {date}.",
        "closed_never": "Il n'accepte pas de réponses pour le moment.",
        "not_found": "Questionnaire introuvable",
        "not_found_body": "Vérifiez le lien suivi ; ce questionnaire n'existe pas.",
        "load_failed": "Le questionnaire n'a pas pu être chargé. Réessayez plus tard.",
        "send_failed": "Vos réponses n'ont pas pu être envoyées. Veuillez réessayer.",
        "queued": "Vous êtes hors ligne. Vos réponses sont enregistrées sur cet appareil et "
        "seront envoyées dès votre retour en ligne.",
        "choose_up_to": "Choisissez-en jusqu'à {n}.",
        "max_chars": "Jusqu'à {n} caractères.",
        "number_range": "Un nombre de {min} à {max}.",
        "number_min": "Un nombre d'au moins {min}.",
        "number_max": "Un nombre d'au plus {max}.",
        "nps_low": "Pas du tout probable",
        "nps_high": "Très probable",
        "language_name": "Français",
        "results_heading": "Vous avez dit, nous avons fait",
        "results_description": "Ce que nos sympathisants nous ont dit dans « {title} », et ce "
        "que nous en avons fait.",
        "you_said": "Ce que vous nous avez dit",
        "we_did": "Ce que nous avons fait",
        "results_by_round": "Résultats par vague, la plus récente en premier",
        "round": "Vague",
        "result": "Résultat",
        "decided_on": "Décidé le {date}",
        "in_answer_to": "Parce que vous nous avez dit :",
        "no_decisions": "Aucune décision n'a encore été publiée.",
        "suppression_note": "Les résultats paraissent à la clôture d'une vague. Une vague de "
        "moins de {n} réponses n'est pas montrée, pour protéger la vie privée des répondants.",
        "results_link": "Voir ce que nous avons fait de vos réponses",
        "not_ready": "Ce questionnaire n'est pas encore ouvert",
        "not_ready_body": "Il n'a pas encore été publié. Veuillez réessayer plus tard.",
        "too_many": "Trop de tentatives",
        "too_many_body": "Veuillez patienter {n} secondes puis réessayer.",
        "too_large": "Vos réponses sont trop longues pour être envoyées",
        "too_large_body": "Raccourcissez vos réponses les plus longues et envoyez à nouveau le "
        "formulaire.",
        "bad_request": "Cette page n'a pas pu être affichée",
        "bad_request_body": "Le lien ou le formulaire envoyé n'a pas été compris. Veuillez "
        "rouvrir le questionnaire.",
        "server_error": "Un problème est survenu de notre côté",
        "server_error_body": "Vos réponses n'ont peut-être pas été enregistrées. Veuillez "
        "réessayer dans un instant.",
        "results_failed": "Les résultats n'ont pas pu être chargés.",
        "results_not_found": "Aucun résultat public",
        "results_not_found_body": "Ce questionnaire n'a publié aucun résultat.",
        "other_languages": "Aussi en :",
        "date": "{day} {month} {year}",
    },
    "es": {
        "link_invalid": "Este enlace personal no es válido; compruebe que lo ha abierto completo.",
        "submit": "Enviar",
        "next_page": "Siguiente",
        "sending": "Enviando…",
        "required": "Obligatorio",
        "error": "Error",
        "error_summary": "Hay un problema",
        "thank_you": "Gracias",
        "thank_you_body": "Hemos recibido sus respuestas.",
        "already_sent": "Ya habíamos recibido sus respuestas a este formulario.",
        "closed": "Esta encuesta está cerrada",
        "closed_next": "Vuelve a abrir el {date}.",
        "closed_never": "En este momento no acepta respuestas.",
        "not_found": "Encuesta no encontrada",
        "not_found_body": "Compruebe el enlace; esta encuesta no existe.",
        "load_failed": "No se pudo cargar la encuesta. Inténtelo más tarde.",
        "send_failed": "No se pudieron enviar sus respuestas. Inténtelo de nuevo.",
        "queued": "Está sin conexión. Sus respuestas se han guardado en este dispositivo y se "
        "enviarán cuando vuelva a estar en línea.",
        "choose_up_to": "Elija hasta {n}.",
        "max_chars": "Hasta {n} caracteres.",
        "number_range": "Un número de {min} a {max}.",
        "number_min": "Un número de al menos {min}.",
        "number_max": "Un número de como máximo {max}.",
        "nps_low": "Nada probable",
        "nps_high": "Muy probable",
        "language_name": "Español",
        "results_heading": "Nos dijo, hicimos",
        "results_description": "Lo que nos dijeron nuestros simpatizantes en «{title}» y lo que "
        "hicimos al respecto.",
        "you_said": "Lo que nos dijo",
        "we_did": "Lo que hicimos",
        "results_by_round": "Resultados por ronda, la más reciente primero",
        "round": "Ronda",
        "result": "Resultado",
        "decided_on": "Decidido el {date}",
        "in_answer_to": "Porque nos dijo:",
        "no_decisions": "Todavía no se ha publicado ninguna decisión.",
        "suppression_note": "Los resultados aparecen cuando se cierra una ronda. Una ronda con "
        "menos de {n} respuestas no se muestra, para proteger la privacidad de quienes "
        "respondieron.",
        "results_link": "Vea lo que hicimos con sus respuestas",
        "not_ready": "Esta encuesta aún no está abierta",
        "not_ready_body": "Todavía no se ha publicado. Inténtelo de nuevo más tarde.",
        "too_many": "Demasiados intentos",
        "too_many_body": "Espere {n} segundos e inténtelo de nuevo.",
        "too_large": "Sus respuestas son demasiado largas para enviarlas",
        "too_large_body": "Acorte sus respuestas más largas y vuelva a enviar el formulario.",
        "bad_request": "No se pudo mostrar esta página",
        "bad_request_body": "No se entendió el enlace o el formulario enviado. Abra la encuesta "
        "de nuevo.",
        "server_error": "Algo ha fallado por nuestra parte",
        "server_error_body": "Es posible que sus respuestas no se hayan guardado. Inténtelo de "
        "nuevo en un momento.",
        "results_failed": "No se pudieron cargar los resultados.",
        "results_not_found": "No hay resultados públicos",
        "results_not_found_body": "Esta encuesta no ha publicado resultados.",
        "other_languages": "También en:",
        "date": "{day} de {month} de {year}",
    },
    "hi": {
        "link_invalid": "यह व्यक्तिगत लिंक मान्य नहीं है; जाँचें कि आपने पूरा लिंक खोला है।",
        "submit": "जमा करें",
        "next_page": "आगे",
        "sending": "भेजा जा रहा है…",
        "required": "आवश्यक",
        "error": "त्रुटि",
        "error_summary": "कोई समस्या है",
        "thank_you": "धन्यवाद",
        "thank_you_body": "आपके उत्तर हमें मिल गए हैं।",
        "already_sent": "इस फ़ॉर्म से आपके उत्तर हमें पहले ही मिल चुके थे।",
        "closed": "यह सर्वेक्षण बंद है",
        "closed_next": "यह {date} को फिर से खुलेगा।",
        "closed_never": "अभी यह उत्तर स्वीकार नहीं कर रहा है।",
        "not_found": "सर्वेक्षण नहीं मिला",
        "not_found_body": "आपने जो लिंक खोला उसे जाँचें; यह सर्वेक्षण मौजूद नहीं है।",
        "load_failed": "सर्वेक्षण लोड नहीं हो सका। कृपया बाद में फिर से प्रयास करें।",
        "send_failed": "आपके उत्तर भेजे नहीं जा सके। कृपया फिर से प्रयास करें।",
        "queued": "आप ऑफ़लाइन हैं। आपके उत्तर इस डिवाइस पर सहेजे गए हैं और ऑनलाइन होते ही भेज दिए जाएँगे।",
        "choose_up_to": "अधिकतम {n} चुनें।",
        "max_chars": "अधिकतम {n} अक्षर।",
        "number_range": "{min} से {max} तक की संख्या।",
        "number_min": "कम से कम {min} की संख्या।",
        "number_max": "अधिकतम {max} की संख्या।",
        "nps_low": "बिल्कुल संभावना नहीं",
        "nps_high": "बहुत अधिक संभावना",
        "language_name": "हिन्दी",
        "results_heading": "आपने कहा, हमने किया",
        "results_description": "“{title}” में समर्थकों ने हमें क्या बताया, और हमने उस पर क्या किया।",
        "you_said": "आपने हमें क्या बताया",
        "we_did": "हमने क्या किया",
        "results_by_round": "हर दौर के परिणाम, सबसे नया पहले",
        "round": "दौर",
        "result": "परिणाम",
        "decided_on": "{date} को तय किया गया",
        "in_answer_to": "क्योंकि आपने हमें बताया:",
        "no_decisions": "अभी तक कोई निर्णय प्रकाशित नहीं हुआ है।",
        "suppression_note": "दौर बंद होने पर परिणाम दिखते हैं। {n} से कम उत्तरों वाला दौर नहीं "
        "दिखाया जाता, ताकि उत्तर देने वालों की निजता सुरक्षित रहे।",
        "results_link": "देखें कि हमने आपके उत्तरों पर क्या किया",
        "not_ready": "यह सर्वेक्षण अभी खुला नहीं है",
        "not_ready_body": "इसे अभी प्रकाशित नहीं किया गया है। कृपया बाद में फिर से प्रयास करें।",
        "too_many": "बहुत अधिक प्रयास",
        "too_many_body": "कृपया {n} सेकंड प्रतीक्षा करें और फिर से प्रयास करें।",
        "too_large": "आपके उत्तर भेजने के लिए बहुत लंबे हैं",
        "too_large_body": "कृपया अपने सबसे लंबे उत्तर छोटे करें और फ़ॉर्म फिर से भेजें।",
        "bad_request": "यह पृष्ठ नहीं दिखाया जा सका",
        "bad_request_body": "लिंक या भेजा गया फ़ॉर्म समझा नहीं गया। कृपया सर्वेक्षण फिर से खोलें।",
        "server_error": "हमारी ओर से कुछ गलत हो गया",
        "server_error_body": "हो सकता है आपके उत्तर सहेजे न गए हों। कृपया थोड़ी देर में फिर से प्रयास करें।",
        "results_failed": "परिणाम लोड नहीं हो सके।",
        "results_not_found": "कोई सार्वजनिक परिणाम नहीं",
        "results_not_found_body": "इस सर्वेक्षण ने कोई परिणाम प्रकाशित नहीं किया है।",
        "other_languages": "इन भाषाओं में भी:",
        "date": "{day} {month} {year}",
    },
}

# Month names for dates on the results page, January first.
MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "hi": (
        "जनवरी",
        "फ़रवरी",
        "मार्च",
        "अप्रैल",
        "मई",
        "जून",
        "जुलाई",
        "अगस्त",
        "सितंबर",
        "अक्टूबर",
        "नवंबर",
        "दिसंबर",
    ),
}

# One language tag with an optional quality: `nl-BE`, `en;q=0.8`, `*;q=0.1`.
_ACCEPT_ITEM = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q=([0-9.]+))?")
_MAX_ACCEPT_ITEMS = 32


def strings_for(locale: str) -> dict[str, str]:
    """The UI strings for `locale` (or its language), else English."""
    found = match_locale(locale, STRINGS) or FALLBACK
    return STRINGS[found]


def accepted_languages(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first; `q=0` and `*` are dropped."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((header or "").split(",")[:_MAX_ACCEPT_ITEMS]):
        match = _ACCEPT_ITEM.match(item)
        if match is None or match.group(1) == "*":
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if quality > 0:
            ranked.append((-quality, index, match.group(1)))
    return [tag for _, _, tag in sorted(ranked)]


def preferred_locales(requested: str | None, accept_language: str | None) -> list[str]:
    """The languages asked for, most wanted first: `?locale=`, then Accept-Language's."""
    return ([requested] if requested else []) + accepted_languages(accept_language)


def date_text(day: date, locale: str) -> str:
    """A date as people of `locale`'s language write it ("3 March 2025"), else in English."""
    found = match_locale(locale, STRINGS) or FALLBACK
    month = MONTHS[found][day.month - 1]
    return STRINGS[found]["date"].format(day=day.day, month=month, year=day.year)


def negotiate_locale(
    requested: str | None,
    accept_language: str | None,
    locales: Sequence[str],
    default_locale: str,
) -> str:
    """The survey locale to show: `?locale=` when the survey has it (or its language), then the
    browser's languages in order of preference, then the survey's default."""
    available = [default_locale, *locales]
    for wanted in preferred_locales(requested, accept_language):
        found = match_locale(wanted, available)
        if found is not None:
            return found
    return default_locale
