# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The README as Automation Hub shows it: the sections certification asks for, only absolute links (the hub
cannot resolve a path of the repository), links into the repository that name files which exist, in-page links
that name a heading, and the two newcomer commands."""

from __future__ import annotations

import os
import re

import yaml
from markdown_it import MarkdownIt

from .conftest import ROOT

SECTIONS = ("Description", "Requirements", "Installation", "Use cases", "Testing", "Support",
            "Release notes and roadmap", "Related information", "License")


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        return handle.read()


def tokens():
    return MarkdownIt("commonmark").enable("table").parse(read("README.md"))


def links():
    for token in tokens():
        for child in token.children or ():
            if child.type == "link_open":
                yield child.attrGet("href")


def headings():
    found, stream = [], tokens()
    for index, token in enumerate(stream):
        if token.type == "heading_open" and token.tag == "h2":
            found.append(stream[index + 1].content)
    return found


def github_anchor(heading):
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_sections_that_certification_asks_for():
    present = headings()
    for section in SECTIONS:
        assert section in present, section


def test_links_are_absolute_or_in_page():
    for href in links():
        assert href.startswith("https://") or href.startswith("#"), href


def test_repository_links_name_existing_files():
    repository = yaml.safe_load(read("galaxy.yml"))["repository"]
    checked = 0
    for href in links():
        if not href.startswith(repository + "/"):
            continue
        rest = href[len(repository) + 1:].split("#")[0]
        kind, _separator, path = rest.partition("/main/")
        if kind not in ("blob", "tree"):
            continue  # issues, security advisories and the like
        target = os.path.join(ROOT, path.rstrip("/"))
        assert (os.path.isfile if kind == "blob" else os.path.isdir)(target), href
        checked += 1
    assert checked


def test_in_page_links_name_a_heading():
    anchors = {github_anchor(heading) for heading in headings()}
    for href in links():
        if href.startswith("#"):
            assert href[1:] in anchors, href


def test_the_two_commands_come_first_and_exist():
    text = read("README.md")
    assert text.index("./scripts/demo") < text.index("## Requirements")
    assert text.index("./scripts/test") < text.index("## Requirements")
    for script in ("scripts/demo", "scripts/test", "scripts/docs"):
        assert os.access(os.path.join(ROOT, script), os.X_OK), script
