# MLA: the blocks its method configs share (configs/mla/README.md).
# A method config names this file after its dataset's joint config
# and states only what differs, e.g.
#     model = _base_.mla_model
mla_model = dict(
    fusion=dict(_delete_=True, type='SharedHeadFusion'),
    balancer=dict(
        _delete_=True,
        type='MLABalancer',
        projection=True,  # the paper's --gs_flag
        alpha=0.1,  # the code's: alpha_t = 0.1^(1 + batch_idx / len(loader))
        code_parity=False,  # scalar OWM denominator, not the official one
        inference='entropy'))  # the paper's --dynamic test-time fusion
mla_custom_hooks = [dict(type='MLAHook')]
