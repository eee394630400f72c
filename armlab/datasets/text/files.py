"""Writing a split's texts as one ``.txt`` file per sample.

One file per sample, like every other modality of the on-disk layout
(``text/<split>/<sample_id>.txt``), so that ``MultimodalDataset`` checks
them at construction and ``check_dataset`` names a missing one.
"""
import os
import os.path as osp
from typing import Iterable, Tuple

from tqdm import tqdm

from armlab.fileio.atomic_local import write_atomic


def text_path(split: str, sample_id: str, folder: str = 'text') -> str:
    """Path of a sample's text, relative to the data root."""
    return f'{folder}/{split}/{sample_id}.txt'


def write_texts(root: str, split: str, items: Iterable[Tuple[str, str]],
                folder: str = 'text', progress: bool = True) -> int:
    """Write ``(sample_id, text)`` pairs; unchanged files are not rewritten
    (a second run is cheap). Returns the number written."""
    items = list(items)
    os.makedirs(osp.join(root, folder, split), exist_ok=True)
    written = 0
    for sample_id, text in tqdm(items, desc=f'texts {split}',
                                disable=not progress, leave=False):
        path = osp.join(root, text_path(split, sample_id, folder))
        data = text.encode('utf-8')
        if osp.isfile(path) and osp.getsize(path) == len(data):
            with open(path, 'rb') as f:
                if f.read() == data:
                    continue
        write_atomic(data, path)
        written += 1
    return written
