"""Turning raw benchmark downloads into armlab's on-disk layout.

Import explicitly (``from armlab.datasets.preparation import splits``): the
package is used by the tools under ``tools/data/``, not by training, and
video decoding libraries stay optional.
"""
from .annotations import write_annotations
from .splits import carve_validation, check_disjoint, stratified_split

__all__ = ['write_annotations', 'stratified_split',
           'carve_validation', 'check_disjoint']
