"""The website link kit: payload rules, the deep link, QR codes, the HTML snippet, the command."""

from __future__ import annotations

import argparse
import io
import json
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import qrcode
from PIL import Image

from bot.config import Settings
from bot.link import (
    LinkKit,
    SourceError,
    UsernameError,
    UsernameLookupError,
    cli_main,
    deep_link,
    make_link_kit,
    render_snippet,
    resolve_username,
    run_link_command,
    validate_source,
    write_qr_png,
    write_qr_svg,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TOKEN = "123456:" + "A" * 35


# -- the /start payload -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["website", "a", "Flyer_2024-spring", "x" * 64])
def test_valid_sources_pass_unchanged(name: str) -> None:
    assert validate_source(name) == name


def test_a_source_of_65_characters_is_too_long() -> None:
    with pytest.raises(SourceError, match=r"65 characters long.*at most 64"):
        validate_source("x" * 65)


def test_spaces_get_underscores_suggested() -> None:
    with pytest.raises(SourceError) as caught:
        validate_source("summer flyer")
    assert "spaces" in str(caught.value)
    assert "underscores" in str(caught.value)
    assert "try 'summer_flyer'" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "shown", "fix"),
    [
        ("café", "'é'", "try 'cafe'"),
        ("clínica-madrid", "'í'", "try 'clinica-madrid'"),
        ("клиника", "'к'", "use a name such as 'website'"),
        ("web🙂", "'🙂'", "try 'web'"),
        ("a.b/c", "'.', '/'", "try 'abc'"),
    ],
)
def test_other_characters_are_named_with_a_fix(name: str, shown: str, fix: str) -> None:
    with pytest.raises(SourceError) as caught:
        validate_source(name)
    message = str(caught.value)
    assert f"contains {shown}" in message
    assert fix in message


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_source_is_refused(name: str) -> None:
    with pytest.raises(SourceError, match="empty"):
        validate_source(name)


def test_source_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        validate_source("no spaces please")


# -- the deep link --------------------------------------------------------------------------


def test_deep_link_with_and_without_a_source() -> None:
    assert deep_link("triage_bot", "website") == "https://t.me/triage_bot?start=website"
    assert deep_link("@Practice_Triage_Bot") == "https://t.me/Practice_Triage_Bot"


def test_deep_link_checks_the_source() -> None:
    with pytest.raises(SourceError):
        deep_link("triage_bot", "our website")


@pytest.mark.parametrize("username", ["abcd", "x" * 33, "1triage_bot", "triage bot", "tri-age"])
def test_deep_link_refuses_usernames_telegram_would_not_issue(username: str) -> None:
    with pytest.raises(UsernameError, match="5 to 32"):
        deep_link(username)


# -- QR codes -------------------------------------------------------------------------------


def modules_of(image: Image.Image, box: int = 10, border: int = 4) -> list[list[bool]]:
    """Read a QR picture back into its grid of dark modules, sampling each module's centre."""
    grey = image.convert("L")
    pixels, width = grey.tobytes(), grey.width
    count = width // box - 2 * border

    def dark(x: int, y: int) -> bool:
        centre_x, centre_y = (border + x) * box + box // 2, (border + y) * box + box // 2
        return pixels[centre_y * width + centre_x] < 128

    return [[dark(x, y) for x in range(count)] for y in range(count)]


def test_qr_png_holds_the_url(tmp_path: Path) -> None:
    url = "https://t.me/triage_bot?start=website"
    path = write_qr_png(url, tmp_path / "qr.png")

    assert path.read_bytes().startswith(PNG_SIGNATURE)
    with Image.open(path) as image:
        assert image.width == image.height >= 250  # big enough to scan from a print-out
        grid = modules_of(image)
    # No QR decoder is installed, so compare with the symbol qrcode computes for the URL:
    # a PNG of different data (or drawn at another scale) would not match module for module.
    expected = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    expected.add_data(url)
    expected.make(fit=True)
    assert grid == expected.get_matrix()
    other = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    other.add_data("https://t.me/triage_bot?start=flyer")
    other.make(fit=True)
    assert grid != other.get_matrix()


def test_qr_svg_is_a_self_contained_svg(tmp_path: Path) -> None:
    path = write_qr_svg("https://t.me/triage_bot", tmp_path / "qr.svg")
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.findall(".//{http://www.w3.org/2000/svg}path")
    assert "href" not in path.read_text()  # nothing loaded from elsewhere


# -- the HTML snippet -----------------------------------------------------------------------


class SnippetParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def parse(snippet: str) -> SnippetParser:
    parser = SnippetParser()
    parser.feed(snippet)
    parser.close()
    return parser


def test_snippet_is_a_link_button_and_the_qr_code() -> None:
    parsed = parse(render_snippet("https://t.me/triage_bot?start=web", "telegram-web.png"))
    (div, _), (a, link), (img, picture) = parsed.tags
    assert (div, a, img) == ("div", "a", "img")
    assert link["href"] == "https://t.me/triage_bot?start=web"
    assert "background:" in (link["style"] or "")  # styled inline, no stylesheet needed
    assert picture["src"] == "telegram-web.png"
    assert "QR code" in (picture["alt"] or "")
    assert parsed.text == ["Chat with us on Telegram"]


def test_snippet_values_cannot_break_out_of_their_place() -> None:
    hostile = "\"'><script>alert(1)</script><b x='"
    snippet = render_snippet(f"https://t.me/x?start={hostile}", hostile, text=hostile)
    parsed = parse(snippet)

    assert [tag for tag, _ in parsed.tags] == ["div", "a", "img"]
    assert parsed.tags[1][1]["href"] == f"https://t.me/x?start={hostile}"
    assert parsed.tags[2][1]["src"] == hostile
    assert parsed.text == [hostile]
    assert "<script>" not in snippet


# -- the kit and the command ----------------------------------------------------------------


def test_make_link_kit_writes_everything_into_a_new_folder(tmp_path: Path) -> None:
    out = tmp_path / "site" / "assets"
    kit = make_link_kit("@triage_bot", "website", out)

    assert kit == LinkKit(
        url="https://t.me/triage_bot?start=website",
        qr_png=out / "telegram-website.png",
        qr_svg=out / "telegram-website.svg",
        snippet=out / "telegram-website.html",
    )
    assert kit.qr_png.read_bytes().startswith(PNG_SIGNATURE)
    assert kit.qr_svg is not None and kit.qr_svg.is_file()
    links = parse(kit.snippet.read_text(encoding="utf-8")).tags
    assert links[1][1]["href"] == kit.url
    assert links[2][1]["src"] == "telegram-website.png"  # beside the snippet on the website


def test_kits_for_two_sources_share_a_folder(tmp_path: Path) -> None:
    first = make_link_kit("triage_bot", "website", tmp_path)
    second = make_link_kit("triage_bot", None, tmp_path)
    assert first.qr_png != second.qr_png
    assert second.url == "https://t.me/triage_bot"
    assert second.qr_png.name == "telegram.png"


def test_run_link_command_prints_the_link_first(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_link_command("flyer", tmp_path, "triage_bot", stdout=out, stderr=err)

    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "https://t.me/triage_bot?start=flyer"
    assert str(tmp_path / "telegram-flyer.png") in out.getvalue()
    assert str(tmp_path / "telegram-flyer.html") in out.getvalue()
    assert err.getvalue() == ""


def test_run_link_command_with_a_bad_source_writes_nothing(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_link_command("front desk", tmp_path / "kit", "triage_bot", stdout=out, stderr=err)

    assert code == 2
    assert "try 'front_desk'" in err.getvalue()
    assert out.getvalue() == ""
    assert not (tmp_path / "kit").exists()


def test_run_link_command_reports_an_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file where the folder should go")
    err = io.StringIO()
    code = run_link_command("web", blocker, "triage_bot", stdout=io.StringIO(), stderr=err)
    assert code == 1
    assert f"Could not write the website files to {blocker}" in err.getvalue()


# -- the bot's username ---------------------------------------------------------------------


@dataclass
class FakeBotApi:
    base_url: str
    calls: list[str]


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    """A Bot API on 127.0.0.1 that knows one token and answers getMe."""
    calls: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            calls.append(self.path)
            if self.path == f"/bot{TOKEN}/getMe":
                status, body = (
                    200,
                    {
                        "ok": True,
                        "result": {
                            "id": 123456,
                            "is_bot": True,
                            "first_name": "Practice triage",
                            "username": "practice_triage_bot",
                        },
                    },
                )
            else:
                status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield FakeBotApi(f"http://127.0.0.1:{server.server_address[1]}/bot", calls)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_username_setting_wins_without_asking_telegram(bot_api: FakeBotApi) -> None:
    settings = Settings(TOKEN, api_base_url=bot_api.base_url, bot_username="my_practice_bot")
    assert await resolve_username(settings) == "my_practice_bot"
    assert bot_api.calls == []


async def test_username_is_asked_of_the_bot_api(bot_api: FakeBotApi) -> None:
    settings = Settings(TOKEN, api_base_url=bot_api.base_url)
    assert await resolve_username(settings) == "practice_triage_bot"
    assert bot_api.calls == [f"/bot{TOKEN}/getMe"]


async def test_a_rejected_token_is_one_sentence(bot_api: FakeBotApi) -> None:
    settings = Settings("999:" + "B" * 35, api_base_url=bot_api.base_url)
    with pytest.raises(UsernameLookupError, match="rejected TELEGRAM_BOT_TOKEN") as caught:
        await resolve_username(settings)
    assert "B" * 35 not in str(caught.value)


async def test_an_unreachable_bot_api_is_one_sentence() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(TOKEN, api_base_url=f"http://127.0.0.1:{port}/bot")
    with pytest.raises(UsernameLookupError, match="Could not reach the Bot API"):
        await resolve_username(settings)


async def test_no_username_and_no_token_says_what_to_set() -> None:
    with pytest.raises(UsernameLookupError, match="set BOT_USERNAME, or TELEGRAM_BOT_TOKEN"):
        await resolve_username(Settings(""))


def test_cli_main_asks_telegram_and_writes_the_kit(
    bot_api: FakeBotApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(source="website", out=tmp_path)
    code = cli_main(args, Settings(TOKEN, api_base_url=bot_api.base_url))

    assert code == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "https://t.me/practice_triage_bot?start=website"
    )
    assert (tmp_path / "telegram-website.png").is_file()


def test_cli_main_checks_the_source_before_asking_telegram(
    bot_api: FakeBotApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(source="our website", out=tmp_path)
    code = cli_main(args, Settings(TOKEN, api_base_url=bot_api.base_url))

    assert code == 2
    assert "underscores" in capsys.readouterr().err
    assert bot_api.calls == []


def test_cli_main_reports_a_failed_lookup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_main(argparse.Namespace(source=None, out=tmp_path), Settings(""))
    assert code == 1
    assert "set BOT_USERNAME" in capsys.readouterr().err
