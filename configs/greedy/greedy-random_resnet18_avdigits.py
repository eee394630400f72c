# Greedy's control: re-balancing steps drawn at random (uniformly regular,
# caring audio, caring visual) from epoch 2 on, instead of guided by d_BDR.
_base_ = './greedy_resnet18_avdigits.py'
model = dict(balancer=dict(mode='random'))
