# MLA on UPMC Food-101, the joint config's encoders with one linear head shared
# by all modalities (the settings of mla_resnet18_avdigits.py), on the BB
# schedule of its joint config (AdamW lr 1e-3, 30 epochs, StepLR(10)). See
# configs/mla/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/mla.py']
# The shared head needs equal feature sizes: the text encoder is widened
# from the joint config's 256 to the image encoder's 512 (feed-forward
# width kept at the joint config's 1,024).
model = dict(_base_.mla_model,
             encoders=dict(text=dict(embed_dims=512, feedforward_channels=1024)))
custom_hooks = _base_.mla_custom_hooks
