# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The documentation of every module, filter and role passes antsibull-docs' collection docs linter, as
the Ansible documentation site and scripts/docs need it: schema, markup, and references to options,
return values and plugins that exist."""

from __future__ import annotations

import os
import subprocess

import pytest

from .conftest import BIN, ROOT

ANTSIBULL_DOCS = os.path.join(BIN, "antsibull-docs")


@pytest.mark.skipif(not os.path.exists(ANTSIBULL_DOCS), reason="antsibull-docs is not installed (requirements-dev.txt)")
def test_collection_docs_lint_clean(tmp_path):
    # The linter runs ansible-doc, which it finds on PATH.
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_HOME=str(tmp_path))
    result = subprocess.run(
        [ANTSIBULL_DOCS, "lint-collection-docs", "--plugin-docs", "--validate-collection-refs", "all",
         "--disallow-unknown-collection-refs", ROOT],
        capture_output=True, text=True, check=False, timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
