# CREMA-D (6 emotions), prepared by tools/data/prepare_cremad.py into
# data_root (docs/datasets.md). OGM-GE front-end: the cached STFT
# log-magnitude (257 x 188, 3 s at 22,050 Hz) and 1 frame per clip sampled
# from frames extracted at 1 fps (BB uses 2, PMR / DI-MML 3: change
# num_frames). Train: random resized crop 224 + flip; test: resize 224.
_base_ = './av_clips.py'
clip = dict(data_root='data/cremad', num_frames=1, spec_shape=(257, 188))
train_dataloader = dict(dataset=clip)
val_dataloader = dict(dataset=clip)
test_dataloader = dict(dataset=clip)
