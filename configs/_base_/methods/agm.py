# AGM: the blocks its method configs share (configs/agm/README.md).
# A method config names this file after its dataset's joint config
# and states only what differs, e.g.
#     model = _base_.agm_model
agm_model = dict(
    balancer=dict(
        _delete_=True,
        type='AGMBalancer',
        # No per-dataset value in the card (author: CREMA-D 1.5, AV-MNIST
        # 2.5, UR-Funny 4.0; BB 0.1 everywhere): the AV-Digits config's 0.05.
        # alpha acts on per-step ratios, so it does not scale with epochs.
        alpha=0.05,
        subtract_empty=False,  # as the official code
        clip_grad=True,  # the official clipping rule
        max_norm=1.0,
        start_epoch=0,
        end_epoch=None))  # the whole run, as the author
