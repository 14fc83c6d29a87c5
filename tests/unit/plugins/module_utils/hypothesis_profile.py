# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How the property tests draw their examples, so that a failure seen once is seen again:

- a fixed seed by default (every run draws the same cases); PROPERTY_SEED=<n> draws others, PROPERTY_SEED=random
  a fresh seed, printed (below) so that the run can be repeated;
- an example database in .cache/hypothesis/properties (gitignored): a failing example is saved there and replayed
  first by every later run on that machine, whatever the seed;
- PROPERTY_SCALE=<k> multiplies every test's number of examples (a longer run: PROPERTY_SCALE=10);
- the seed and scale are printed in the head of every pytest run;
- a failure prints the falsifying example and a @reproduce_failure blob.
"""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
DEFAULT_SEED = 20261208
DATABASE_PATH = os.path.join(ROOT, ".cache", "hypothesis", "properties")


def _seed():
    given = os.environ.get("PROPERTY_SEED", "").strip()
    if given.lower() == "random":
        # Drawn once, in the first process that imports this (tests/conftest.py does, before pytest-xdist starts
        # its workers, which inherit the number and so draw with the seed the header printed).
        given = str(random.SystemRandom().randrange(2 ** 32))
        os.environ["PROPERTY_SEED"] = given
    return int(given) if given else DEFAULT_SEED


SEED = _seed()
SCALE = float(os.environ.get("PROPERTY_SCALE", "1") or 1)
DATABASE = DirectoryBasedExampleDatabase(DATABASE_PATH)


def examples(count):
    return max(1, int(round(count * SCALE)))


def prop(count, **extra):
    """The decorator of a property test (above @example and @given): `count` examples (times PROPERTY_SCALE),
    the run's seed, the example database, no deadline."""
    options = dict(max_examples=examples(count), deadline=None, database=DATABASE, print_blob=True,
                   report_multiple_bugs=False,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.filter_too_much])
    options.update(extra)

    def decorate(test):
        # @seed alone turns the database off; the settings applied after it turn it on again.
        return settings(**options)(seed(SEED)(test))
    return decorate


def header():
    """One line for the head of a pytest run (tests/conftest.py), so that any failure can be drawn again."""
    return ("property tests (hypothesis): PROPERTY_SEED=%d, PROPERTY_SCALE=%g, example database %s"
            % (SEED, SCALE, os.path.relpath(DATABASE_PATH, ROOT)))
