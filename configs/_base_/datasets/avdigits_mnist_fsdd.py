# AV-Digits, all-real variant: MNIST digits paired with human speech from
# the Free Spoken Digit Dataset, speaker-disjoint splits (train george,
# jackson, nicolas; val yweweler; test theo). Built from local copies on
# first use (docs/avdigits.md); point the two paths at yours, e.g.
#   --cfg-options train_dataloader.dataset.build_cfg.mnist_path=PATH ...
# or build it once with tools/data/build_avdigits.py --mnist --fsdd.
_base_ = './avdigits.py'
data_root = 'data/avdigits/mnist_fsdd'
build_cfg = dict(visual_source='mnist', audio_source='fsdd',
                 mnist_path='data/mnist10k.npz', fsdd_path='data/fsdd',
                 fsdd_split='speaker')
train_dataloader = dict(dataset=dict(data_root=data_root, build_cfg=build_cfg))
val_dataloader = dict(dataset=dict(data_root=data_root, build_cfg=build_cfg))
test_dataloader = dict(dataset=dict(data_root=data_root, build_cfg=build_cfg))
