# PMR on IEMOCAP, the joint config's encoders and concat fusion, on the BB
# schedule of its joint config (AdamW lr 1e-3, 30 epochs, StepLR(10)). See
# configs/pmr/README.md, "Real benchmarks".
_base_ = '../joint/joint_concat_mlp_transformer_iemocap.py'
model = dict(
    balancer=dict(
        _delete_=True,
        type='PMRBalancer',
        alpha=2.0,  # official bash.sh, concat fusion (BB: 0.6)
        # bash.sh modulates the first 70 % of its run (0-70 of 100): the
        # window scaled to this 30-epoch schedule is 0-21.
        start_epoch=0,
        end_epoch=21,
        momentum=0.0))  # mu, as bash.sh
# Prototypes before training and after every epoch, from 10 % of the train
# split read with the test pipeline (the official share; never the
# validation split, which the official code uses for AVE).
custom_hooks = [
    dict(type='PMRHook', fraction=0.1)
]
