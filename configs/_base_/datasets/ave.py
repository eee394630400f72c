# AVE (28 event classes), prepared by tools/data/prepare_ave.py into
# data_root (docs/datasets.md); official train / val / test lists,
# multi-label videos dropped. OGM-GE front-end: the cached scipy log-PSD
# spectrogram, z-scored (257 x 1004), and 3 frames per clip (PMR / DI-MML
# use 4), TSN-sampled from frames extracted at 1 fps. Train: random resized
# crop 224 + flip; test: resize 224.
_base_ = './av_clips.py'
clip = dict(data_root='data/ave', num_frames=3, spec_shape=(257, 1004))
train_dataloader = dict(dataset=clip)
val_dataloader = dict(dataset=clip)
test_dataloader = dict(dataset=clip)
