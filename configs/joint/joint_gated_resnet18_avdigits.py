# Joint training with GatedFusion, width-16 ResNet-18s, AV-Digits audio-dominant.
_base_ = './joint_concat_resnet18_avdigits.py'
model = dict(fusion=dict(_delete_=True, type='GatedFusion'))
