# Modality dropout (ModDrop-style augmentation) on AV-Digits audio-dominant:
# joint training, concat fusion, width-16 ResNet-18s, where each training
# sample loses each modality with probability 0.5, redrawn until one stays:
# {audio, visual}, {audio} and {visual} each a third of the time. Absent
# modalities take the fusion's fill (zero), exactly as RMM at test time.
# The draw is seeded per (seed, epoch, sample) by armlab's draw seeding
# (seed=None: numpy's per-sample stream), so runs are reproducible.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'

modality_dropout = dict(type='MissingModality', protocol='RMM', rate=0.5,
                        modalities=('audio', 'visual'), fill='model',
                        seed=None, min_present=1)
# The base train pipeline (configs/_base_/datasets/avdigits.py) with the
# dropout inserted right before packing. It only marks modalities absent, so
# it may follow the steps the pipeline defers to the batch.
train_pipeline = _base_.train_pipeline[:-1] + [
    modality_dropout, _base_.train_pipeline[-1]
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
