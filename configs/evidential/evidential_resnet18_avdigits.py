# Evidential (TMC) late fusion on AV-Digits (audio-dominant preset),
# width-16 ResNet-18s: per-modality Dirichlet opinions merged by the reduced
# Dempster-Shafer rule, trained with the TMC loss on every opinion and the
# fused one. The plain CE on log(alpha) is off (see README.md).
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    fusion=dict(
        _delete_=True,
        type='EvidentialFusion',
        evidence='softplus',
        pseudo_view=False,
        annealing_epochs=4,  # KL weight 0, 1/4, ..., 1 from epoch 5 of 8
        loss_form='digamma',
        loss_weight=1.0),
    loss=dict(type='CrossEntropyLoss', loss_weight=0.0))
