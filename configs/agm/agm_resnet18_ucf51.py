# AGM on UCF-51, the joint config's encoders and concat fusion, on the OGM-GE
# schedule of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/agm/README.md, "Real benchmarks".
_base_ = '../joint/joint_concat_resnet18_ucf51.py'
model = dict(
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
