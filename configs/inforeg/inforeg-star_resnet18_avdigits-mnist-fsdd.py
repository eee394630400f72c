# InfoReg* on the all-real AV-Digits variant (see inforeg-star_resnet18_avdigits.py).
_base_ = './inforeg_resnet18_avdigits-mnist-fsdd.py'
model = dict(balancer=dict(unimodal_loss=True))
