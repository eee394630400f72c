"""AV-Digits' class-pair ambiguity knob: audio that names only a pair.

With rate ``p_swap_audio`` a sample's waveform is replaced by the waveform
of another sample of the same split whose class is drawn uniformly from the
sample's *group* (``audio_swap_groups``, e.g. the pairs (0, 1), (2, 3)).
For a swapped sample of a pair the audio says "0 or 1" with equal odds, so
only the image separates the two classes; classes outside every group form
groups of one and are swapped with a recording of their own class. Every
class is therefore swapped at the same rate: which samples were swapped
carries no information about the label.

The draw depends on (noise_seed, split, sample index) alone, like every
other knob, so each method, batch order and worker count sees the same
substitutions.
"""
from typing import Dict, List, Optional, Sequence


from armlab.datasets.transforms.imbalance import sample_rng

#: Generator stream of the swap draw (the erasure and noise use 0-2).
STREAM_SWAP = 3


def class_groups(groups: Optional[Sequence[Sequence[int]]],
                 num_classes: int) -> Dict[int, tuple]:
    """Class -> its group (sorted tuple), every class covered once.

    Raises:
        ValueError: A class appears in two groups or lies outside
            ``range(num_classes)``.
    """
    out: Dict[int, tuple] = {}
    for group in groups or ():
        members = tuple(sorted(int(c) for c in group))
        for c in members:
            if not 0 <= c < num_classes:
                raise ValueError(f'audio_swap_groups: class {c} is not in '
                                 f'0..{num_classes - 1}')
            if c in out:
                raise ValueError(f'audio_swap_groups: class {c} is in two '
                                 f'groups ({out[c]} and {members})')
            out[c] = members
    for c in range(num_classes):
        out.setdefault(c, (c, ))
    return out


def audio_swap_sources(labels: Sequence[int], p_swap: float,
                       groups: Optional[Sequence[Sequence[int]]],
                       noise_seed: int, split: str,
                       num_classes: Optional[int] = None
                       ) -> List[Optional[int]]:
    """The donor of each sample's audio: None where the audio is kept.

    A swapped sample's donor may be the sample itself (a group of one, or
    the draw landing on it); it still counts as swapped, so that the swap
    pattern stays independent of the label.

    Args:
        labels: Class of every sample of the split, in dataset order.
        p_swap: Swap rate, the same for every class.
        groups: Class groups within which audio is swapped.
        noise_seed, split: Seed the per-sample draws, as the other knobs.
        num_classes: Defaults to ``max(labels) + 1``.
    """
    labels = [int(y) for y in labels]
    if not 0.0 <= float(p_swap) <= 1.0:
        raise ValueError(f'p_swap_audio={p_swap} must lie in [0, 1]')
    num_classes = num_classes or max(labels) + 1
    group_of = class_groups(groups, num_classes)
    by_class: Dict[int, List[int]] = {}
    for idx, y in enumerate(labels):
        by_class.setdefault(y, []).append(idx)
    donors: List[Optional[int]] = []
    for idx, y in enumerate(labels):
        rng = sample_rng(noise_seed, split, idx, STREAM_SWAP)
        # Three draws whatever p is: the swapped sets are nested as p grows
        # and a sample's donor does not depend on p.
        u, pick_class, pick_sample = rng.random(3)
        if u >= p_swap:
            donors.append(None)
            continue
        candidates = [c for c in group_of[y] if by_class.get(c)]
        pool = by_class[candidates[int(pick_class * len(candidates))]]
        donors.append(pool[int(pick_sample * len(pool))])
    return donors


def swap_audio_paths(data_list: List[dict],
                     donors: Sequence[Optional[int]]) -> None:
    """Point each swapped sample's audio files at its donor's (in place).

    Marks ``audio_swapped`` on every sample and records the donor's
    ``sample_id`` as ``audio_donor``; labels and the other modalities stay.
    """
    original = [{k: v for k, v in info.items()
                 if k.startswith('audio') and k.endswith('_path')}
                for info in data_list]
    for info, donor in zip(data_list, donors):
        info['audio_swapped'] = donor is not None
        if donor is not None:
            info.update(original[donor])
            info['audio_donor'] = data_list[donor]['sample_id']
