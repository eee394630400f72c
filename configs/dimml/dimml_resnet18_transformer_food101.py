# DI-MML on UPMC Food-101 (image + text), on the BB schedule of its joint
# config (30 epochs): L_DUC from epoch 4, fusion stage from 26. The shared
# head needs equal feature sizes: the text encoder is widened from 256 to the
# image encoder's 512 (feed-forward width kept at 1,024), as for MLA. See
# configs/dimml/README.md.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/dimml.py']
model = dict(_base_.dimml_bb_model,
             encoders=dict(text=dict(embed_dims=512, feedforward_channels=1024)))
custom_hooks = _base_.dimml_custom_hooks
