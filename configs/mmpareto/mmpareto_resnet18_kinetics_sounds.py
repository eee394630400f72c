# MMPareto on Kinetics-Sounds, the joint config's encoders and concat fusion,
# on the OGM-GE schedule of its joint config (SGD lr 1e-3, 100 epochs,
# StepLR(70)). See configs/mmpareto/README.md, "Real benchmarks".
_base_ = '../joint/joint_concat_resnet18_kinetics_sounds.py'
model = dict(
    # The unimodal heads m -> K that MMPareto trains with its unimodal losses.
    aux_heads=True,
    # gamma 1.5: the official code's and BB's value, for every dataset.
    balancer=dict(_delete_=True, type='MMParetoBalancer', gamma=1.5))
