"""Sharing the bot on the practice's website: a deep link, a QR code and an HTML snippet.

``triage-bot link --source website`` prints ``https://t.me/<bot>?start=website`` and writes
the QR code (PNG and SVG) and a snippet to paste into the website. The source travels to the
bot as the ``/start`` payload, so /stats can say where conversations came from.

Errors form a small tree, each one plain sentence saying what is wrong and how to fix it::

    LinkError
     ├── SourceError(ValueError)     the source name breaks Telegram's payload rules
     ├── UsernameError(ValueError)   the bot username is not a Telegram username
     ├── UsernameLookupError         the Bot API could not tell us the username
     └── SymlinkError                a file to write is a symbolic link

Files are written atomically and never through a link: each goes to a temporary file in the
folder and is then renamed over the old one (``os.replace``), so a web server never serves half
a QR code, and a symbolic link planted in the folder is refused rather than followed (it could
point at any file the user may write).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import io
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from bot.errors import SetupError, TransportError

if TYPE_CHECKING:
    from qrcode import QRCode

SOURCE_MAX_LENGTH = 64  # Telegram's limit for a /start payload
_SOURCE_CHARS = re.compile(r"[A-Za-z0-9_-]")
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
DEFAULT_BUTTON_TEXT = "Chat with us on Telegram"
DEFAULT_OUT_DIR = Path("website")

# The snippet's words per language: the flow's languages get one snippet each.
SNIPPET_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "button": DEFAULT_BUTTON_TEXT,
        "alt": "QR code: scan it with your phone's camera to chat with us on Telegram",
    },
    "es": {
        "button": "Escríbenos por Telegram",
        "alt": "Código QR: escanéalo con la cámara del móvil para escribirnos por Telegram",
    },
}

# Telegram's blue darkened until white text on it passes WCAG AA (4.8:1).
_BUTTON_STYLE = (
    "display:inline-block;padding:14px 22px;border-radius:10px;background:#1c77b5;"
    "color:#ffffff;font:600 18px/1.3 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "text-decoration:none"
)


class LinkError(SetupError):
    """Something stops us from making the website link; the message says what to do."""


class SourceError(LinkError, ValueError):
    """The source name cannot be a Telegram /start payload."""


class UsernameError(LinkError, ValueError):
    """The bot username does not follow Telegram's rules."""


class UsernameLookupError(LinkError, TransportError):
    """The Bot API could not be asked for the bot's username."""


class SymlinkError(LinkError):
    """A file of the kit would be written through a symbolic link."""


class LinkSettings(Protocol):
    """The part of :class:`bot.config.Settings` this module reads."""

    @property
    def bot_username(self) -> str | None: ...
    @property
    def telegram_bot_token(self) -> str | None: ...
    @property
    def api_base_url(self) -> str | None: ...


@dataclass(frozen=True)
class LinkKit:
    """What ``triage-bot link`` produced: the link and the files for the website. ``snippet``
    is in the flow's first language; ``translations`` holds one more per further language
    (``telegram-website.es.html``)."""

    url: str
    qr_png: Path
    qr_svg: Path | None
    snippet: Path
    translations: dict[str, Path] = field(default_factory=dict)


def suggest_source(name: str) -> str | None:
    """A valid source close to ``name`` (spaces to _, accents dropped), or None."""
    folded = unicodedata.normalize("NFKD", name.strip()).encode("ascii", "ignore").decode()
    folded = re.sub(r"\s+", "_", folded)
    folded = "".join(ch for ch in folded if _SOURCE_CHARS.fullmatch(ch))[:SOURCE_MAX_LENGTH]
    return folded or None


def validate_source(name: str) -> str:
    """Return ``name`` if Telegram accepts it as a /start payload, else raise SourceError."""
    if not name.strip():
        raise SourceError(
            "The source name is empty; give a short name such as 'website' or 'flyer_2024'."
        )
    if len(name) > SOURCE_MAX_LENGTH:
        raise SourceError(
            f"The source name is {len(name)} characters long but Telegram allows at most "
            f"{SOURCE_MAX_LENGTH}; shorten it (a short name also makes a tidier link)."
        )
    bad = sorted({ch for ch in name if not _SOURCE_CHARS.fullmatch(ch)}, key=name.index)
    if not bad:
        return name
    suggestion = suggest_source(name)
    fix = f"try '{suggestion}'" if suggestion else "use a name such as 'website'"
    rule = "Telegram allows only the letters A-Z and a-z, the digits 0-9, _ and -"
    if any(ch.isspace() for ch in bad):
        raise SourceError(
            f"The source name {name!r} contains spaces; {rule}, so use underscores instead: {fix}."
        )
    shown = ", ".join(repr(ch) for ch in bad)
    raise SourceError(f"The source name {name!r} contains {shown}; {rule}: {fix}.")


def validate_username(username: str) -> str:
    """Return the bot username without a leading @, or raise UsernameError."""
    name = username.strip().removeprefix("@")
    if not _USERNAME.fullmatch(name):
        raise UsernameError(
            f"The bot username {username!r} is not a Telegram username: it must be 5 to 32 "
            "letters, digits or underscores, starting with a letter (as BotFather shows it, "
            "e.g. 'my_practice_bot'). Check BOT_USERNAME."
        )
    return name


def deep_link(username: str, source: str | None = None) -> str:
    """``https://t.me/<username>`` with ``?start=<source>`` when a source is given."""
    url = f"https://t.me/{validate_username(username)}"
    if source is not None:
        url += f"?start={validate_source(source)}"
    return url


FILE_MODE = 0o644  # website files: readable by the web server, writable by their owner


def refuse_links(*paths: Path) -> None:
    """SymlinkError for the first of ``paths`` that is a symbolic link."""
    for path in paths:
        if path.is_symlink():
            raise SymlinkError(
                f"{path} is a symbolic link; the website files are never written through "
                "one (it could overwrite another file): remove it, or choose another --out."
            )


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``: a
    reader sees the old file or the new one, and a link at ``path`` is replaced, not
    followed (it is refused first: see :func:`refuse_links`)."""
    refuse_links(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def qr_png(url: str) -> bytes:
    """``url`` as a QR code PNG (black on white, quiet zone included)."""
    from qrcode.image.pil import PilImage  # Pillow ships with matplotlib

    data = io.BytesIO()
    _qr_code(url).make_image(image_factory=PilImage).save(data)
    return data.getvalue()


def qr_svg(url: str) -> bytes:
    """``url`` as a QR code SVG: one path, scales sharply to any size on a website."""
    from qrcode.image.svg import SvgPathImage

    data = io.BytesIO()
    _qr_code(url).make_image(image_factory=SvgPathImage).save(data)
    return data.getvalue()


def write_qr_png(url: str, path: str | Path) -> Path:
    return write_atomically(Path(path), qr_png(url))


def write_qr_svg(url: str, path: str | Path) -> Path:
    return write_atomically(Path(path), qr_svg(url))


def _qr_code(url: str) -> QRCode:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    # M survives a smudged print-out; box 10 px gives ~330 px for a typical t.me link.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def render_snippet(url: str, qr_src: str, *, text: str | None = None, language: str = "en") -> str:
    """The HTML to paste into a website: a button-styled link and the QR code, in
    ``language`` (its words from :data:`SNIPPET_TEXTS`, English for a language without).

    Inline CSS only, nothing loaded from elsewhere; every value is HTML-escaped, so even a
    value with quotes or tags stays inside its attribute or text.
    """
    words = SNIPPET_TEXTS.get(language, SNIPPET_TEXTS["en"])
    shown = words["button"] if text is None else text
    href = html.escape(url, quote=True)
    src = html.escape(qr_src, quote=True)
    label = html.escape(shown, quote=True)
    said = (
        words["alt"]
        if text is None
        else (f"QR code: scan it with your phone's camera to {_lower_first(shown)}")
    )
    alt = html.escape(said)
    lang = html.escape(language if language in SNIPPET_TEXTS else "en", quote=True)
    return (
        "<!-- Telegram triage bot: paste this where the button should appear. -->\n"
        f'<div lang="{lang}" '
        'style="display:inline-flex;flex-direction:column;align-items:center;gap:12px">\n'
        f'  <a href="{href}" style="{_BUTTON_STYLE}">{label}</a>\n'
        f'  <img src="{src}" alt="{alt}" width="160" height="160" '
        'style="width:160px;height:160px;image-rendering:pixelated">\n'
        "</div>\n"
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def write_snippet(
    url: str,
    qr_filename: str,
    path: str | Path,
    *,
    text: str | None = None,
    language: str = "en",
) -> Path:
    snippet = render_snippet(url, qr_filename, text=text, language=language)
    return write_atomically(Path(path), snippet.encode("utf-8"))


def make_link_kit(
    username: str, source: str | None, out_dir: str | Path, languages: Sequence[str] = ("en",)
) -> LinkKit:
    """Write the QR codes and the snippets into ``out_dir`` (created if missing): one snippet
    in each of the flow's ``languages``, the first without a language in its name.

    File names carry the source, so kits for several sources can share one folder. Raises
    SymlinkError, before writing anything, when one of them is a symbolic link.
    """
    url = deep_link(username, source)
    out = Path(out_dir)
    stem = f"telegram-{source}" if source else "telegram"
    png, svg, html_file = (out / f"{stem}{suffix}" for suffix in (".png", ".svg", ".html"))
    first, *others = list(languages) or ["en"]
    translated = {language: out / f"{stem}.{language}.html" for language in others}
    refuse_links(png, svg, html_file, *translated.values())
    out.mkdir(parents=True, exist_ok=True)
    write_qr_png(url, png)
    write_qr_svg(url, svg)
    snippet = write_snippet(url, png.name, html_file, language=first)
    translations = {
        language: write_snippet(url, png.name, path, language=language)
        for language, path in translated.items()
    }
    return LinkKit(url=url, qr_png=png, qr_svg=svg, snippet=snippet, translations=translations)


async def resolve_username(settings: LinkSettings) -> str:
    """The bot's username: BOT_USERNAME when set, otherwise asked of the Bot API (getMe)."""
    if settings.bot_username:
        return validate_username(settings.bot_username)
    token = settings.telegram_bot_token
    if not token:
        raise UsernameLookupError(
            "The bot's username is unknown: set BOT_USERNAME, or TELEGRAM_BOT_TOKEN so it can "
            "be asked of Telegram."
        )
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError

    base_url = settings.api_base_url or "https://api.telegram.org/bot"
    try:
        # Entering the context calls getMe, which is exactly the question we have.
        async with Bot(token, base_url=base_url) as bot:
            username = bot.username
    except InvalidToken:
        raise UsernameLookupError(
            "Telegram rejected TELEGRAM_BOT_TOKEN; copy the token again from BotFather, or set "
            "BOT_USERNAME."
        ) from None
    except NetworkError as error:  # includes timeouts
        reason = error.message.replace(token, "<token>")  # never print the token
        raise UsernameLookupError(
            f"Could not reach the Bot API to ask for the bot's username ({reason}); "
            "check the network or TELEGRAM_API_BASE_URL, or set BOT_USERNAME."
        ) from None
    except TelegramError as error:
        raise UsernameLookupError(
            f"The Bot API did not tell us the bot's username "
            f"({error.message.replace(token, '<token>')}); set BOT_USERNAME."
        ) from None
    return validate_username(username)


def run_link_command(
    source: str | None,
    out_dir: str | Path,
    username: str,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    languages: Sequence[str] = ("en",),
) -> int:
    """Print the link and write the kit. Exit code 0, 2 for a bad source or username, 1 when
    the files cannot be written."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        kit = make_link_kit(username, source, out_dir, languages)
    except (SourceError, UsernameError) as error:
        print(error, file=err)
        return 2
    except SymlinkError as error:
        print(error, file=err)
        return 1
    except OSError as error:
        print(f"Could not write the website files to {out_dir}: {error.strerror}.", file=err)
        return 1
    # The link alone on the first line, so scripts can take it with `head -1`.
    print(kit.url, file=out)
    print(f"QR code:      {kit.qr_png}", file=out)
    if kit.qr_svg is not None:
        print(f"QR code, SVG: {kit.qr_svg}", file=out)
    print(f"HTML snippet: {kit.snippet}", file=out)
    for language, path in kit.translations.items():
        print(f"HTML snippet, {language}: {path}", file=out)
    untranslated = [lang for lang in languages if lang not in SNIPPET_TEXTS]
    if untranslated:
        print(
            f"The snippet has no wording in {', '.join(untranslated)} yet: those files are in "
            "English; translate the button's text in them by hand.",
            file=err,
        )
    return 0


def cli_main(
    args: argparse.Namespace, settings: LinkSettings, languages: Sequence[str] = ("en",)
) -> int:
    """``triage-bot link [--source NAME] [--out DIR]``; args has ``source`` and ``out``;
    ``languages`` are the flow's (one snippet each).

    Exit code 0; 2 for a bad source; 1 when the username is unknown or a file cannot be written.
    """
    if args.source is not None and not isinstance(args.source, str):
        # argparse hands over an empty list for --source=-- ("--" ends the options)
        print("triage-bot link: --source needs a name, e.g. --source website.", file=sys.stderr)
        return 2
    # Check the source before asking the network, so a typo fails fast and offline.
    if args.source is not None:
        try:
            validate_source(args.source)
        except SourceError as error:
            print(error, file=sys.stderr)
            return 2
    try:
        username = asyncio.run(resolve_username(settings))
    except LinkError as error:
        print(error, file=sys.stderr)
        return 1
    return run_link_command(args.source, args.out or DEFAULT_OUT_DIR, username, languages=languages)
