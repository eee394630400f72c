"""Committed results tables: the command that made one, and its content.

Every table under docs/results begins with 'Produced by `python ...`'; a
regeneration test runs that command with ``--out`` redirected and compares
the two tables line by line, leaving out the command line itself and the
figure links.
"""
import re
from typing import List


def produced_by(text: str) -> List[str]:
    """The 'Produced by' command of a table, as argv (script first)."""
    found = re.search(r'^Produced by `python ([^`]+)`', text, re.MULTILINE)
    assert found, 'the table has no "Produced by `python ...`" line'
    return found.group(1).split()


def table_lines(text: str) -> List[str]:
    """The lines a regenerated table must reproduce."""
    return [line for line in text.splitlines()
            if not line.startswith(('Produced by', '!['))]
