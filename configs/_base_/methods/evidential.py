# Evidential (TMC) late fusion: the block its method configs share
# (configs/evidential/README.md). Per-modality Dirichlet opinions merged by
# the reduced Dempster-Shafer rule, trained with the TMC loss on every
# opinion and the fused one; the plain CE on log(alpha) is off (README).
evidential_model = dict(
    fusion=dict(
        _delete_=True,
        type='EvidentialFusion',
        evidence='softplus',
        pseudo_view=False,
        annealing_epochs=4,  # KL weight 0, 1/4, 1/2, 3/4, then 1 from epoch 5
        loss_form='digamma',
        loss_weight=1.0),
    loss=dict(type='CrossEntropyLoss', loss_weight=0.0))
