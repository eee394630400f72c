# Modality dropout on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (modality_dropout_resnet18_avdigits.py).
_base_ = '../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py'

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
