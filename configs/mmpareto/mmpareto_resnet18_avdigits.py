# MMPareto on AV-Digits (audio-dominant preset), width-16 ResNet-18s, concat
# fusion. See configs/mmpareto/README.md for the defaults and why.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    # The unimodal heads m -> K that MMPareto trains with its unimodal losses.
    aux_heads=True,
    balancer=dict(_delete_=True, type='MMParetoBalancer', gamma=1.5))
