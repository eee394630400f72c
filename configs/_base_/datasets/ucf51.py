# UCF-51 (the 51 UCF-101 classes with sound), prepared by
# tools/data/prepare_ucf51.py into data_root (docs/datasets.md), official
# split 1. Front-end (armlab's choice, the field has no single one): the
# VGGSound STFT of a centred 5-s crop at 16 kHz (129 x 626) and 3 frames
# per clip, TSN-sampled from frames extracted at 1 fps. Train: random
# resized crop 224 + flip; test: resize 224.
_base_ = './av_clips.py'
clip = dict(data_root='data/ucf51', num_frames=3, spec_shape=(129, 626))
train_dataloader = dict(dataset=clip)
val_dataloader = dict(dataset=clip)
test_dataloader = dict(dataset=clip)
