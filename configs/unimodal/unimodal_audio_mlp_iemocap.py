# Audio alone on IEMOCAP: the joint config's audio encoder, data and schedule
# (the reference for the joint model and the balancers). The pipeline still
# loads every modality; the model reads only this one.
_base_ = '../joint/joint_concat_mlp_transformer_iemocap.py'
model = dict(modalities=('audio', ))
