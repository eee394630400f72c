# VGGSound (the classes with downloaded clips; 309 in OGM-GE's copy),
# prepared by tools/data/prepare_vggsound.py into data_root
# (docs/datasets.md). OGM-GE front-end: the cached STFT log-magnitude of a
# 5-s crop at 16 kHz (129 x 626; centred, where OGM-GE draws it at random)
# and 3 frames per clip, TSN-sampled from frames extracted at 1 fps.
# Train: random resized crop 224 + flip; test: resize 224.
_base_ = './av_clips.py'
clip = dict(data_root='data/vggsound', num_frames=3, spec_shape=(129, 626))
train_dataloader = dict(dataset=clip)
val_dataloader = dict(dataset=clip)
test_dataloader = dict(dataset=clip)
