# Text alone on CMU-MOSI: the joint config's text encoder and head.
_base_ = '../joint/joint_concat_sequence_mosi.py'
model = dict(modalities=('text', ))
