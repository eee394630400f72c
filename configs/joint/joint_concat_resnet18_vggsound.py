# Joint training, concat fusion, standard ResNet-18 encoders, VGGSound
# (309 classes in OGM-GE's copy; set num_classes to len(meta.json classes)).
# The OGM-GE schedule (_base_/schedules/ogm_ge_sgd.py).
_base_ = [
    '../_base_/models/av_resnet18.py',
    '../_base_/datasets/vggsound.py',
    '../_base_/schedules/ogm_ge_sgd.py',
    '../_base_/default_runtime.py',
]
model = dict(num_classes=309)
