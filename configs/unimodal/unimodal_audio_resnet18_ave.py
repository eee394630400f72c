# Audio alone on AVE: the joint config's audio encoder, data and schedule (the
# reference for the joint model and the balancers). The pipeline still loads
# every modality; the model reads only this one.
_base_ = '../joint/joint_concat_resnet18_ave.py'
model = dict(modalities=('audio', ))
