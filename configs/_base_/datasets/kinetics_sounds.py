# Kinetics-Sounds (31 classes), prepared by
# tools/data/prepare_kinetics_sounds.py into data_root (docs/datasets.md).
# Front-end of the KS loaders: the cached Kaldi fbank (128 mel x 1,024
# frames, AudioSet normalisation) and 3 frames per clip, TSN-sampled from
# frames extracted at 1 fps. Train: random resized crop 224 + flip; test:
# resize 224.
_base_ = './av_clips.py'
clip = dict(data_root='data/kinetics_sounds', num_frames=3, spec_shape=(128, 1024))
train_dataloader = dict(dataset=clip)
val_dataloader = dict(dataset=clip)
test_dataloader = dict(dataset=clip)
