# ARM on the all-real AV-Digits variant with a sharper CMI weighting of the
# min-max loss: contribution temperature 0.1 (from 0.25), so the modality
# with the smaller joint contribution gets more of the loss. A validation
# probe (configs/arm/README.md).
_base_ = ['./arm_resnet18_avdigits-mnist-fsdd.py']
model = dict(balancer=dict(minmax_loss=dict(contribution_temperature=0.1)))
