# Greedy (Wu et al., ICML 2022) on CREMA-D: the joint config's ResNet-18
# branches joined by MMTM blocks after layer2-4, its concat late-fusion head,
# and guided re-balancing steps, on the OGM-GE schedule of its joint config
# (SGD lr 1e-3, 100 epochs, StepLR(70)). See configs/greedy/README.md, "Real
# benchmarks".
_base_ = '../joint/joint_concat_resnet18_cremad.py'
model = dict(
    type='MMTMClassifier',
    mmtm_stages=(2, 3, 4),
    mmtm=dict(ratio=4, excitation_scale=1.0, momentum=None),
    balancer=dict(
        _delete_=True,
        type='GreedyBalancer',
        mode='guided',
        epsilon=0.01,  # the paper's code, on the log10 scale of d_BDR
        window=5,  # Q re-balancing steps per curation window (the code's)
        # The code's start epoch 2 (an absolute epoch, to let the summed
        # learning speeds settle; not a share of the run).
        start_epoch=2))
