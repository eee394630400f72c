# AV-Digits, all-real variant: MNIST digits paired with human speech from
# the Free Spoken Digit Dataset, speaker-disjoint splits (train george,
# jackson, nicolas; val yweweler; test theo). Built from local copies on
# first use (docs/avdigits.md); point the two paths at yours, e.g.
#   --cfg-options train_dataloader.dataset.build_cfg.mnist_path=PATH ...
# or build it once with tools/data/build_avdigits.py --mnist --fsdd.
_base_ = ['./avdigits.py', './avdigits_mnist_fsdd_source.py']
data_root = _base_.mnist_fsdd_root
build_cfg = _base_.mnist_fsdd_build_cfg
train_dataloader = dict(dataset=dict(data_root=data_root, build_cfg=build_cfg))
val_dataloader = dict(dataset=dict(data_root=data_root, build_cfg=build_cfg))
test_dataloader = dict(dataset=dict(data_root=data_root, build_cfg=build_cfg))
