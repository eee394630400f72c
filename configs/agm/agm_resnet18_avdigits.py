# AGM on AV-Digits (audio-dominant preset), width-16 ResNet-18s, concat
# fusion. See configs/agm/README.md for the choices.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    balancer=dict(
        _delete_=True,
        type='AGMBalancer',
        # Pilot on this schedule (README): BB's 0.1 diverged in epoch 1; the
        # author's 1.5 (CREMA-D, 1,500 epochs) is far beyond it. 0.05 trains.
        alpha=0.05,
        subtract_empty=False,  # as the official code
        # The official rule: clip the global norm to 1 when a fusion-head
        # gradient entry leaves [-1, 1].
        clip_grad=True,
        max_norm=1.0,
        start_epoch=0,
        end_epoch=None))  # the whole run, as the author
