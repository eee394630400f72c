# CIDer on CMU-MOSEI (3 classes, the aligned MMSA pickle: COVAREP 74,
# Facet 35, BERT 768), the schedule of cider_sequence_mosi.py.
_base_ = [
    '../_base_/datasets/mosei.py',
    '../_base_/models/cider_sentiment.py',
    '../_base_/schedules/bb_adamw.py',
    '../_base_/default_runtime.py',
]
feature_channels = dict(audio=74, visual=35, text=768)
model = dict(
    encoders=dict(audio=dict(in_channels=74), visual=dict(in_channels=35)),
    fusion=dict(prototype_channels=feature_channels))
auto_scale_lr = dict(base_batch_size=32)
