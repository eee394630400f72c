"""Two vector modalities (audio 5-d, visual 3-d) on MLP encoders, and their
batches: the tiny setting shared by the MLA and AMST tests; a classifier on
K-d inputs and its batches for the per-sample loss tests."""
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


def mlp_classifier(balancer: dict, modalities=('audio', 'visual'),
                   num_classes: int = K):
    """A seeded concat classifier on ``num_classes``-d inputs per modality
    (MLP encoders to 6-d): the model of the per-sample loss tests (CML,
    MBSD, AMCo)."""
    from armlab.models import MultimodalClassifier
    torch.manual_seed(0)
    return MultimodalClassifier(
        encoders={m: dict(type='MLPEncoder', in_channels=num_classes,
                          out_channels=6, hidden_channels=(8, ))
                  for m in modalities},
        fusion=dict(type='ConcatFusion'), num_classes=num_classes,
        balancer=balancer,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def labelled_batch(n: int = 16, modalities=('audio', 'visual'),
                   num_classes: int = K):
    """Seeded inputs for :func:`mlp_classifier` and labels cycling over the
    classes."""
    torch.manual_seed(1)
    return ({m: torch.randn(n, num_classes) for m in modalities},
            torch.arange(n) % num_classes)


def samples(labels) -> list:
    """Data samples carrying ``labels``."""
    return [DataSample().set_gt_label(int(v)) for v in labels]


def labelled_data(n: int = 16, modalities=('audio', 'visual'),
                  num_classes: int = K) -> dict:
    """:func:`labelled_batch` as a model's ``data`` (inputs and data
    samples), for ``train_step`` and ``loss(**data)``."""
    inputs, labels = labelled_batch(n, modalities, num_classes)
    return dict(inputs=inputs, data_samples=samples(labels))
