"""Shared fixtures: registration, and where the real data of ../shared lies."""
import os
from pathlib import Path

import pytest

from armlab.utils import register_all_modules

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get('ARMLAB_SHARED_DATA',
                                  REPO.parent / 'shared' / 'data'))

register_all_modules()


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """The folder with mnist10k/ and fsdd/ (skips when it is absent)."""
    if not (SHARED_DATA / 'mnist10k').is_dir():
        pytest.skip(f'real data not found at {SHARED_DATA}')
    return SHARED_DATA
