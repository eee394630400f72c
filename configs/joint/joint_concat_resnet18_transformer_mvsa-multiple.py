# Joint training on MVSA-Multiple (tweet image + text, 3 sentiments): the
# image + text model of Food-101 (ResNet-18 + a small transformer from
# scratch, concat fusion) on the BB schedule (AdamW lr 1e-3, wd 0.01,
# StepLR(10, 0.1), 30 epochs), checkpoint selected on the carved validation
# split.
_base_ = [
    '../_base_/models/image_text_resnet18_transformer.py',
    '../_base_/datasets/mvsa_multiple.py',
    '../_base_/schedules/bb_adamw.py',
    '../_base_/default_runtime.py',
]
model = dict(num_classes=3)
