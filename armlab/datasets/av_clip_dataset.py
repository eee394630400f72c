"""Audio-visual clip benchmarks: one dataset type, the clip shape as data.

AVE, CREMA-D, Kinetics-Sounds, UCF-51 and VGGSound are read the same way (a
cached spectrogram and TSN-sampled frames per clip, written by their
preparation tools) and differ only in where they live, how many frames a
clip gives and what shape the spectrogram has. Those two numbers belong to
the dataset, not to the pipeline: the loading steps read them from each
sample (``SampleFrames(num_frames=None)``, ``LoadSpectrogram`` without
``expected_shape``), so one config base (``configs/_base_/datasets/
av_clips.py``) serves the five benchmarks and a config changes the frame
count in one place (``train_dataloader.dataset.num_frames``).
"""
from typing import Optional, Sequence

from armlab.registry import DATASETS
from .multimodal_dataset import MultimodalDataset


@DATASETS.register_module()
class AVClipDataset(MultimodalDataset):
    """A :class:`MultimodalDataset` of clips with a frame count and a
    spectrogram shape.

    Every sample's data info carries ``num_frames`` (T, what
    ``SampleFrames`` draws when its own ``num_frames`` is ``None``) and
    ``spec_shape`` (the (F, T) that ``LoadSpectrogram`` checks when it has no
    ``expected_shape``), so a cache built with another front-end fails on its
    first sample, naming the file.

    Args:
        num_frames: Frames sampled per clip (>= 1).
        spec_shape: Expected (F, T) of the cached spectrograms; ``None``
            entries match any size, ``None`` skips the check.
        **kwargs: :class:`MultimodalDataset` arguments.
    """

    def __init__(self, num_frames: int = 1,
                 spec_shape: Optional[Sequence[Optional[int]]] = None,
                 **kwargs) -> None:
        if int(num_frames) < 1:
            raise ValueError(f'{type(self).__name__}: num_frames must be >= '
                             f'1, got {num_frames}')
        if spec_shape is not None and len(spec_shape) != 2:
            raise ValueError(f'{type(self).__name__}: spec_shape is (F, T), '
                             f'got {spec_shape}')
        self.num_frames = int(num_frames)
        self.spec_shape = (tuple(spec_shape) if spec_shape is not None
                           else None)
        super().__init__(**kwargs)

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['num_frames'] = self.num_frames
        info['spec_shape'] = self.spec_shape
        return info
