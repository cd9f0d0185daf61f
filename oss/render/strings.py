"""The few words the renderer itself shows, per language (English is the fallback)."""

from __future__ import annotations

UI: dict[str, dict[str, str]] = {
    "en": {
        "waiting": "Ready. Press the pedal to start.",
        "paused": "Paused. Press the pedal to go on.",
        "help": "Help is on the way.",
        "done": "Done!",
        "finished": "Finished. Thank you!",
        "units": "Units: {n}",
        "help_hint": "Need help? Press the pedal.",
        "help_hint_again": "Press the pedal again to call for help.",
        "signin": "Who is working here? Touch your name or scan your badge.",
        "signin_pedal": "Pedal: press to move, press twice quickly to choose.",
        "welcome": "Hello {name}!",
        "unknown_badge": "Badge {code} is not known. Ask your supervisor.",
        "break": "Break. Press the pedal to go on.",
        "signout": "Sign out",
        "signout_hint": "To stop: touch 'Sign out', press the pedal twice quickly or scan your badge.",
    },
    "nl": {
        "waiting": "Klaar. Druk op het pedaal om te beginnen.",
        "paused": "Pauze. Druk op het pedaal om verder te gaan.",
        "help": "Er komt hulp aan.",
        "done": "Klaar!",
        "finished": "Klaar. Bedankt!",
        "units": "Stuks: {n}",
        "help_hint": "Hulp nodig? Druk op het pedaal.",
        "help_hint_again": "Druk nog eens op het pedaal om hulp te roepen.",
        "signin": "Wie werkt hier? Raak je naam aan of scan je pas.",
        "signin_pedal": "Pedaal: druk om te kiezen, twee keer snel om te bevestigen.",
        "welcome": "Hallo {name}!",
        "unknown_badge": "Pas {code} is onbekend. Vraag het je leidinggevende.",
        "break": "Pauze. Druk op het pedaal om verder te gaan.",
        "signout": "Afmelden",
        "signout_hint": "Stoppen: raak 'Afmelden' aan, druk twee keer snel op het pedaal of scan je pas.",
    },
    "de": {
        "waiting": "Bereit. Pedal drücken zum Starten.",
        "paused": "Pause. Pedal drücken zum Weitermachen.",
        "help": "Hilfe kommt.",
        "done": "Fertig!",
        "finished": "Fertig. Danke!",
        "units": "Stück: {n}",
        "help_hint": "Hilfe nötig? Pedal drücken.",
        "help_hint_again": "Pedal noch einmal drücken, um Hilfe zu rufen.",
        "signin": "Wer arbeitet hier? Namen berühren oder Ausweis scannen.",
        "signin_pedal": "Pedal: drücken zum Wählen, zweimal schnell zum Bestätigen.",
        "welcome": "Hallo {name}!",
        "unknown_badge": "Ausweis {code} ist unbekannt. Bitte Vorgesetzte fragen.",
        "break": "Pause. Pedal drücken zum Weitermachen.",
        "signout": "Abmelden",
        "signout_hint": "Aufhören: 'Abmelden' berühren, Pedal zweimal schnell drücken oder Ausweis scannen.",
    },
}


def ui_text(key: str, language: str, **fmt: object) -> str:
    table = UI.get(language, UI["en"])
    return table.get(key, UI["en"][key]).format(**fmt)
