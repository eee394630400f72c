# Greedy: the blocks its method configs share (configs/greedy/README.md).
# A method config names this file after its dataset's joint config
# and states only what differs, e.g.
#     model = _base_.greedy_model
greedy_model = dict(
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
