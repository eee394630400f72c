# Joint training on UPMC Food-101: ResNet-18 image encoder (each image a
# one-frame clip) + a small transformer text encoder trained from scratch,
# concat fusion, 101 classes. Schedule: the BB protocol of docs/protocols.md
# (AdamW lr 1e-3, wd 0.01, StepLR(10, 0.1), 30 epochs), checkpoint selected
# on the carved validation split.
_base_ = [
    '../_base_/models/image_text_resnet18_transformer.py',
    '../_base_/datasets/food101.py',
    '../_base_/schedules/bb_adamw.py',
    '../_base_/default_runtime.py',
]
model = dict(num_classes=101)
