# MLA: the blocks its method configs share (configs/mla/README.md).
# A method config names this file after its dataset's joint config
# and states only what differs, e.g.
#     model = _base_.mla_model
mla_model = dict(
    fusion=dict(_delete_=True, type='SharedHeadFusion'),
    balancer=dict(
        _delete_=True,
        type='MLABalancer',
        # The paper's --gs_flag; off as in the released code, whose name
        # gate never matches a bare linear head (so it never projects).
        projection=False,
        alpha=0.1,  # the code's: alpha_t = 0.1^(1 + batch_idx / len(loader))
        code_parity=False,  # scalar OWM denominator, not the official one
        # The paper's --dynamic test-time fusion, per sample; the released
        # code's batch-axis form is inference='entropy_batch'.
        inference='entropy'))
mla_custom_hooks = [dict(type='MLAHook')]
