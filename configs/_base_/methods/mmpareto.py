# MMPareto: the blocks its method configs share (configs/mmpareto/README.md).
# A method config names this file after its dataset's joint config
# and states only what differs, e.g.
#     model = _base_.mmpareto_model
mmpareto_model = dict(
    # The unimodal heads m -> K that MMPareto trains with its unimodal losses.
    aux_heads=True,
    # gamma 1.5: the official code's and BB's value, for every dataset.
    balancer=dict(_delete_=True, type='MMParetoBalancer', gamma=1.5))
