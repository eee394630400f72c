# OGM-GE on Kinetics-Sounds, standard ResNet-18s, concat fusion, on the OGM-GE
# schedule of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/ogm_ge/README.md, "Real benchmarks".
_base_ = '../joint/joint_concat_resnet18_kinetics_sounds.py'
model = dict(
    balancer=dict(
        _delete_=True,
        type='OGMGEBalancer',
        # no per-dataset value in the card (BB: 0.3 for every dataset); the
        # AV-Digits config's 0.8. alpha acts on a per-batch ratio, so it does
        # not scale with the schedule
        alpha=0.8,
        mode='OGM-GE',
        # The paper's window, epochs 0-50 of 100 (main.py, StepLR(70)): the
        # joint schedule is the paper's, so the window is taken as it is
        # (armlab's end is exclusive: end_epoch=51).
        start_epoch=0,
        end_epoch=51,
        score='decompose'))
