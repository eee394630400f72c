# Joint training on the all-real AV-Digits variant (MNIST + FSDD speech).
_base_ = [
    '../_base_/models/av_resnet18_w16.py',
    '../_base_/datasets/avdigits_mnist_fsdd.py',
    '../_base_/schedules/avdigits_sgd.py', '../_base_/default_runtime.py'
]
