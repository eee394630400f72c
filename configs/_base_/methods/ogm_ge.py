# OGM-GE: the blocks its method configs share (configs/ogm_ge/README.md).
# A method config names this file after its dataset's joint config
# and states only what differs, e.g.
#     model = _base_.ogm_ge_model
ogm_ge_model = dict(
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
