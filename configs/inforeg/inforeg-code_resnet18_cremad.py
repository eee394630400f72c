# InfoReg as the released main.py computes it, on CREMA-D: InfoReg*, the
# fixed 0.95 / 0.1 coefficients, batch-sum scores, the audio trace's window
# (configs/inforeg/README.md, "Differences from the official code").
_base_ = './inforeg_resnet18_cremad.py'
model = dict(balancer=_base_.inforeg_code_balancer)
