# Vision alone: the same encoder and schedule as the joint model (reference).
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(modalities=('visual', ))
