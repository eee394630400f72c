"""The repository documents itself: no file points at notes a user of the
repository does not have, and every repository page a file points at exists.
"""
import re
from pathlib import Path

import pytest

from conftest import REPO

#: Folders whose text files are scanned (everything a user reads or runs).
SCANNED = ('armlab', 'configs', 'docs', 'tools', 'benchmarks', 'tests', '.ci')
TOP_LEVEL = ('README.md', 'pyproject.toml', '.pre-commit-config.yaml')
SUFFIXES = {'.py', '.md', '.sh', '.cfg', '.toml', '.txt', '.yaml', '.yml', ''}

#: Notes that lived beside the repository while it was written.
OUTSIDE_NOTES = re.compile(
    r'(METHODS(-MORE)?|PROTOCOLS|DESIGN|CIDER|STACK)\.md'
    r'|PROTOCOLS §|METHODS §|card §'
    r'|\.\./shared/(?!data)')
#: Repository pages named in code and docs.
PAGE = re.compile(r'\b((?:docs|configs)/[\w./-]+\.md)\b')


def _text_files():
    files = [REPO / name for name in TOP_LEVEL if (REPO / name).is_file()]
    for folder in SCANNED:
        files += [p for p in (REPO / folder).rglob('*')
                  if p.is_file() and p.suffix in SUFFIXES
                  and '__pycache__' not in p.parts]
    return [p for p in files if p.name != Path(__file__).name]


def test_the_scan_sees_the_repository():
    names = {p.relative_to(REPO).as_posix() for p in _text_files()}
    assert {'README.md', 'docs/protocols.md', 'armlab/balancers/arm.py',
            'configs/arm/README.md'} <= names


@pytest.mark.parametrize('pattern', [OUTSIDE_NOTES])
def test_no_reference_to_notes_outside_the_repository(pattern):
    found = []
    for path in _text_files():
        for lineno, line in enumerate(
                path.read_text(encoding='utf-8', errors='replace')
                .splitlines(), 1):
            if pattern.search(line):
                found.append(f'{path.relative_to(REPO)}:{lineno}: '
                             f'{line.strip()[:100]}')
    assert not found, '\n'.join(found)


def test_the_pattern_catches_what_it_must():
    for text in ('see METHODS.md §3.3', 'PROTOCOLS §2.2',
                 '../shared/DESIGN.md', 'the card §3.8'):
        assert OUTSIDE_NOTES.search(text), text
    assert not OUTSIDE_NOTES.search('../shared/data/fsdd')


def test_every_page_named_exists():
    missing = []
    for path in _text_files():
        text = path.read_text(encoding='utf-8', errors='replace')
        for page in set(PAGE.findall(text)):
            if '<' in page or '*' in page:
                continue
            if not (REPO / page).is_file():
                missing.append(f'{path.relative_to(REPO)} -> {page}')
    assert not missing, '\n'.join(sorted(missing))
