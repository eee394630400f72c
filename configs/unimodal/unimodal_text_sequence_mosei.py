# Text alone on CMU-MOSEI: the joint config's text encoder and head.
_base_ = '../joint/joint_concat_sequence_mosei.py'
model = dict(modalities=('text', ))
