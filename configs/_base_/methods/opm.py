# OPM (configs/opm/README.md): per-sample dropping of the dominant modality's
# features with a probability that grows with its dominance. A method config
# names this file after its dataset's joint config and states only what
# differs, e.g.
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/opm.py']
#     model = _base_.opm_model
opm_model = dict(
    balancer=dict(
        _delete_=True,
        type='OPMBalancer',
        # scripts/train_opm.sh of the official code (BalanceBenchmark:
        # q_base 0.4)
        q_base=0.5,
        lam=0.5,
        p_exe=0.7,
        # main.py: epochs 0-5 plain, of 100
        warmup_epochs=6,
        score='decompose'))
