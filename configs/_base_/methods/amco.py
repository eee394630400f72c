# AMCo (configs/amco/README.md): the modality the model depends on (the one
# whose decomposed logits hold more than sigma of the softmax mass) is hidden
# behind a random mask whose ratio rises on a sine ramp every epoch; fused and
# per-modality cross-entropies inside the modulation window. A method config
# names this file after its dataset's joint config:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/amco.py']
#     model = _base_.amco_model
amco_model = dict(
    balancer=dict(
        _delete_=True,
        type='AMCoBalancer',
        sigma=0.5,  # BalanceBenchmark's
        eps=0.3,  # the level where the sine ramp reaches 1
        growth=0.1,  # the level grows by epoch * growth per batch
        mask='logits',  # a class mask on the decomposed logits (BB's latest)
        start_epoch=10))  # BB's modulation_starts (of 70 epochs)
# The window start scaled to shorter schedules: epoch 4 of the BB schedule's
# 30 (Food-101, IEMOCAP), epoch 1 of AV-Digits' 8.
amco_bb_model = dict(
    amco_model, balancer=dict(amco_model['balancer'], start_epoch=4))
amco_avdigits_model = dict(
    amco_model, balancer=dict(amco_model['balancer'], start_epoch=1))
