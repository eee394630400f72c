# Joint training, concat fusion, width-16 ResNet-18s, AV-Digits audio-dominant.
_base_ = [
    '../_base_/models/av_resnet18_w16.py', '../_base_/datasets/avdigits.py',
    '../_base_/schedules/avdigits_sgd.py', '../_base_/default_runtime.py'
]
