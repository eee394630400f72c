# Visual alone on CMU-MOSEI: the joint config's visual encoder and head.
_base_ = '../joint/joint_concat_sequence_mosei.py'
model = dict(modalities=('visual', ))
