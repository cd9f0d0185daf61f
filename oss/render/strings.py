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
    },
    "nl": {
        "waiting": "Klaar. Druk op het pedaal om te beginnen.",
        "paused": "Pauze. Druk op het pedaal om verder te gaan.",
        "help": "Er komt hulp aan.",
        "done": "Klaar!",
        "finished": "Klaar. Bedankt!",
        "units": "Stuks: {n}",
    },
    "de": {
        "waiting": "Bereit. Pedal drücken zum Starten.",
        "paused": "Pause. Pedal drücken zum Weitermachen.",
        "help": "Hilfe kommt.",
        "done": "Fertig!",
        "finished": "Fertig. Danke!",
        "units": "Stück: {n}",
    },
}


def ui_text(key: str, language: str, **fmt: object) -> str:
    table = UI.get(language, UI["en"])
    return table.get(key, UI["en"][key]).format(**fmt)
