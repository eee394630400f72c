# Text alone on UPMC Food-101: the joint config's text encoder, data and
# schedule (the reference for the joint model and the balancers). The pipeline
# still loads every modality; the model reads only this one.
_base_ = '../joint/joint_concat_resnet18_transformer_food101.py'
model = dict(modalities=('text', ))
