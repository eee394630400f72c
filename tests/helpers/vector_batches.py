"""Two vector modalities (audio 5-d, visual 3-d) on MLP encoders, and their
batches: the tiny setting shared by the MLA and AMST tests."""
import torch
from mmpretrain.structures import DataSample

K, D = 4, 8  # classes, feature width
ENCODERS = dict(audio=dict(type='MLPEncoder', in_channels=5, out_channels=D),
                visual=dict(type='MLPEncoder', in_channels=3, out_channels=D))


def vector_batch(b: int = 6, seed: int = 0) -> dict:
    """A seeded batch of ``b`` samples, labels cycling over the K classes."""
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=dict(audio=torch.randn(b, 5, generator=g),
                            visual=torch.randn(b, 3, generator=g)),
                data_samples=[DataSample().set_gt_label(i % K)
                              for i in range(b)])
