# Greedy (Wu et al., ICML 2022) on AV-Digits (audio-dominant preset):
# width-16 ResNet-18 branches joined by MMTM blocks after layer2-4, the
# concat late-fusion head, and guided re-balancing steps.
# See configs/greedy/README.md for every choice.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    type='MMTMClassifier',
    mmtm_stages=(2, 3, 4),
    mmtm=dict(ratio=4, excitation_scale=1.0, momentum=None),
    balancer=dict(
        _delete_=True,
        type='GreedyBalancer',
        mode='guided',
        epsilon=0.01,  # on the log10 scale of d_BDR, as in the paper's code
        window=5,  # Q re-balancing steps per curation window
        start_epoch=2))  # of 8
