# Joint training on CMU-MOSI (3 classes) with the cross-modal transformer
# (configs/_base_/models/mult_sentiment.py) on the aligned MMSA pickle: the
# missing-modality protocols of tools/robustness.py act per time step before
# the cross-modal attention. Schedule: the BB protocol (AdamW lr 1e-3,
# wd 0.01, StepLR(10, 0.1), 30 epochs), checkpoint selected on validation.
_base_ = [
    '../_base_/datasets/mosi.py',
    '../_base_/models/mult_sentiment.py',
    '../_base_/schedules/bb_adamw.py',
    '../_base_/default_runtime.py',
]
auto_scale_lr = dict(base_batch_size=32)
