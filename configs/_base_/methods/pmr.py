# PMR: the blocks its method configs share (configs/pmr/README.md).
# A method config names this file after its dataset's joint config
# and states only what differs, e.g.
#     model = _base_.pmr_model
pmr_model = dict(
    balancer=dict(
        _delete_=True,
        type='PMRBalancer',
        alpha=2.0,  # official bash.sh, concat fusion (BB: 0.6)
        # bash.sh: modulation epochs 0-70 of 100-130, 70 included (its test
        # is epoch <= 70); the window here ends before end_epoch, so 71.
        # The joint schedule is 100 epochs: the window is taken as it is.
        start_epoch=0,
        end_epoch=71,
        momentum=0.0))  # mu, as bash.sh
# Prototypes before training and after every epoch, from 10 % of the train
# split read with the test pipeline (the official share; never the
# validation split, which the official code uses for AVE).
pmr_custom_hooks = [
    dict(type='PMRHook', fraction=0.1)
]
