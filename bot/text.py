"""Texts in several languages: the one lookup, the one language-code normaliser, the one table
of language names, and filling ``{placeholders}``.

Every catalogue of the bot's own words (the engine's notices, the transport's messages, the
terminal chat's lines) is a :class:`Catalogue`, and every language code people or Telegram
give us ("es-MX", "ES_es", "pt-BR") goes through :func:`pick_language` before a text is
chosen. A leaf module: it imports nothing of the bot.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

FALLBACK = "en"

# A placeholder: ``{name}`` and nothing else (no attributes, indexes or format specs).
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Each language by its English name (the review page, the terminal's notes) and by its own
# name (the /language buttons: a person finds "Español" more easily than "Spanish").
LANGUAGES: Mapping[str, tuple[str, str]] = {
    "ar": ("Arabic", "العربية"),
    "ca": ("Catalan", "Català"),
    "da": ("Danish", "Dansk"),
    "de": ("German", "Deutsch"),
    "en": ("English", "English"),
    "es": ("Spanish", "Español"),
    "fi": ("Finnish", "Suomi"),
    "fr": ("French", "Français"),
    "it": ("Italian", "Italiano"),
    "nl": ("Dutch", "Nederlands"),
    "no": ("Norwegian", "Norsk"),
    "pl": ("Polish", "Polski"),
    "pt": ("Portuguese", "Português"),
    "ro": ("Romanian", "Română"),
    "ru": ("Russian", "Русский"),
    "sv": ("Swedish", "Svenska"),
    "tr": ("Turkish", "Türkçe"),
    "uk": ("Ukrainian", "Українська"),
}


def language_name(code: str) -> str:
    """The language's English name ("Spanish"); an unknown code as it is."""
    names = LANGUAGES.get(code)
    return names[0] if names else code


def own_name(code: str) -> str:
    """The language in its own words ("Español"); an unknown code as it is."""
    names = LANGUAGES.get(code)
    return names[1] if names else code


def pick_language(language: str | None, available: Collection[str]) -> str | None:
    """The code in ``available`` that ``language`` means: "es-MX", "ES_mx" and "es" all
    mean "es" when the regional one is not there. None when nothing fits."""
    if not language:
        return None
    code = language.strip().lower().replace("_", "-")
    for candidate in (code, code.split("-")[0]):
        if candidate in available:
            return candidate
    return None


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` by ``values[name]``; unknown names stay as written.

    Only plain names are supported: no attribute access, no indexing, no format specs, so a
    flow text can never reach into Python objects the way ``str.format`` could.
    """
    if "{" not in template:
        return template
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


class Catalogue:
    """Texts by key, each in one or more languages, with ``fallback``'s always present."""

    __slots__ = ("fallback", "texts")

    def __init__(self, texts: Mapping[str, Mapping[str, str]], fallback: str = FALLBACK) -> None:
        self.texts = texts
        self.fallback = fallback

    @classmethod
    def by_language(cls, texts: Mapping[str, Mapping[str, str]]) -> Catalogue:
        """A catalogue from texts written language by language (``{"en": {key: text}}``)."""
        keys = dict.fromkeys(key for by_key in texts.values() for key in by_key)
        return cls({key: {lang: t[key] for lang, t in texts.items() if key in t} for key in keys})

    def __contains__(self, key: object) -> bool:
        return key in self.texts

    def template(self, key: str, language: str | None) -> str:
        """The text ``key`` in ``language`` (any code :func:`pick_language` understands), else
        in the fallback language; its placeholders unfilled."""
        texts = self.texts[key]
        chosen = pick_language(language, texts)
        return texts[chosen] if chosen is not None else texts[self.fallback]

    def say(self, key: str, language: str | None, **values: object) -> str:
        """The text ``key`` in ``language``, ``{name}`` filled from ``values``."""
        return fill(self.template(key, language), {k: str(v) for k, v in values.items()})
