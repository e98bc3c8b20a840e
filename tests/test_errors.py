"""One exception tree: every error the bot raises on purpose derives from TriageBotError, and
the tree written in bot/errors.py and docs/architecture.md is the tree the code has."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import bot
from bot.config import load_settings
from bot.errors import SetupError, StorageError, TriageBotError
from bot.flow import load_flow
from bot.storage import Storage

ROOT = Path(__file__).resolve().parents[1]
BRANCH = re.compile(r"[├└]── (?P<names>\w+(?:, \w+)*)(?:\s+(?P<module>bot\.[\w.]+))?")


def bot_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined in a module of bot/ (``__main__`` runs the command)."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(bot.__path__, "bot."):
        if info.name == "bot.__main__":
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
            ):
                found[value.__name__] = value
    return found


def written_tree(text: str) -> dict[str, tuple[str, str | None]]:
    """name -> (parent, module as written) from a tree drawn with ├── and └──."""
    lines = text.splitlines()
    root = next(i for i, line in enumerate(lines) if line.strip() == "TriageBotError")
    indent = lines[root].index("TriageBotError")
    parents = ["TriageBotError"]
    tree: dict[str, tuple[str, str | None]] = {}
    for line in lines[root + 1 :]:
        match = BRANCH.search(line)
        if match is None:
            break
        depth = (match.start() - indent) // 4
        names = match.group("names").split(", ")
        del parents[depth + 1 :]
        for name in names:
            tree[name] = (parents[depth], match.group("module"))
        parents.append(names[0])
    return tree


EXCEPTIONS = bot_exceptions()


def test_every_error_of_the_bot_derives_from_the_one_base() -> None:
    strays = sorted(name for name, cls in EXCEPTIONS.items() if not issubclass(cls, TriageBotError))
    assert strays == []


@pytest.mark.parametrize("where", ["bot/errors.py", "docs/architecture.md"])
def test_the_written_tree_is_the_tree_in_the_code(where: str) -> None:
    text = (ROOT / where).read_text("utf-8")
    tree = written_tree(text)
    assert sorted(tree) == sorted(set(EXCEPTIONS) - {"TriageBotError"})
    for name, (parent, module) in tree.items():
        cls = EXCEPTIONS[name]
        assert EXCEPTIONS[parent] in cls.__bases__, f"{name} is not a {parent}"
        if module is not None:  # where to import it from
            assert getattr(importlib.import_module(module), name, None) is cls, (name, module)


def test_a_broken_flow_and_a_bad_setting_are_setup_errors(tmp_path: Path) -> None:
    flow = tmp_path / "broken.yaml"
    flow.write_text("id: x\nsteps: [\n", encoding="utf-8")
    with pytest.raises(SetupError):
        load_flow(flow)
    with pytest.raises(SetupError):
        load_settings({"TELEGRAM_BOT_TOKEN": "1:x", "ADMIN_CHAT_IDS": "me"}, env_file=None)


async def test_a_database_that_cannot_be_opened_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        await Storage.open(tmp_path)  # a folder, not a file
    assert isinstance(caught.value, TriageBotError)
