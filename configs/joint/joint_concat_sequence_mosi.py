# Joint training on CMU-MOSI (3-class sentiment: negative / neutral /
# positive), audio + visual + text feature sequences of the aligned MMSA
# pickle through SequenceEncoders and a concat head. Schedule: the BB protocol
# (AdamW lr 1e-3, wd 0.01, StepLR(10, 0.1), 30 epochs), checkpoint selected
# on the benchmark's validation split.
_base_ = [
    '../_base_/datasets/mosi.py',
    '../_base_/models/sequence_concat_sentiment.py',
    '../_base_/schedules/bb_adamw.py',
    '../_base_/default_runtime.py',
]
auto_scale_lr = dict(base_batch_size=32)
