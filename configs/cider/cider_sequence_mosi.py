# CIDer on CMU-MOSI (3 classes, the aligned MMSA pickle), on the BB
# protocol's schedule that every method on MOSI uses (AdamW lr 1e-3,
# wd 0.01, StepLR(10, 0.1), 30 epochs), checkpoint selected on validation.
# See configs/cider/README.md.
_base_ = [
    '../_base_/datasets/mosi.py',
    '../_base_/models/cider_sentiment.py',
    '../_base_/schedules/bb_adamw.py',
    '../_base_/default_runtime.py',
]
auto_scale_lr = dict(base_batch_size=32)
