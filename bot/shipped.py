"""Files that come with the code, found where they are: beside the package once it is installed
(package data, copied from the project through the links ``bot/shipped_flows`` and
``bot/shipped_docs``), or in the project folder when running from a clone."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
PROJECT = PACKAGE.parent


def shipped(package_folder: str, project_folder: str, name: str) -> Path:
    """The package's copy of ``name`` when it has one, else the project's; the package's
    place when neither is there (the caller says so in its own words)."""
    places = (PACKAGE / package_folder / name, PROJECT / project_folder / name)
    return next((place for place in places if place.exists()), places[0])


def shipped_doc(name: str) -> Path:
    """A file of docs/ the tools use: the flow schema, the open questions."""
    return shipped("shipped_docs", "docs", name)
