# MMPareto on UPMC Food-101, the joint config's encoders and concat fusion, on
# the BB schedule of its joint config (AdamW lr 1e-3, 30 epochs, StepLR(10)).
# See configs/mmpareto/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/mmpareto.py']
model = _base_.mmpareto_model
