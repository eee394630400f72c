# Joint training, concat fusion, standard ResNet-18 encoders, Kinetics-Sounds.
# The OGM-GE schedule (_base_/schedules/ogm_ge_sgd.py).
_base_ = [
    '../_base_/models/av_resnet18.py',
    '../_base_/datasets/kinetics_sounds.py',
    '../_base_/schedules/ogm_ge_sgd.py',
    '../_base_/default_runtime.py',
]
model = dict(num_classes=31)
