# InfoReg (configs/inforeg/README.md): inside each modality's prime learning
# window, a proximal pull of the modalities that are ahead towards their
# parameters at the start of the epoch. A method config names this file after
# its dataset's joint config and states only what differs, e.g.
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/inforeg.py']
#     model = _base_.inforeg_model
#     custom_hooks = _base_.inforeg_custom_hooks
inforeg_model = dict(
    balancer=dict(
        _delete_=True,
        type='InfoRegBalancer',
        beta=0.9,  # the paper's section 4.7 (searched 0.1-1.0)
        threshold=0.04,  # K, the paper's section 4.7 (searched 0.01-0.1)
        window='paper',  # Eq. 11 on each modality's own Fisher trace
        unimodal_loss=False,  # InfoReg; True is InfoReg* (the released code)
        score='decompose',
        score_reduction='mean'))
# The epoch snapshot and window before each epoch, the trace after it.
inforeg_custom_hooks = [dict(type='InfoRegHook')]
# The released main.py as read: InfoReg* (unimodal losses through the shared
# head), fixed coefficients 0.95 (audio) and 0.1 (visual) times exp(tanh(gap)),
# batch-sum scores, one window from the audio trace with a 10-epoch lag.
inforeg_code_balancer = dict(
    beta=1.0, threshold=0.05, scale=dict(audio=0.95, visual=0.1),
    window='code', unimodal_loss=True, score_reduction='sum')
