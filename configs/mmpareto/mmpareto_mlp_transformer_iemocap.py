# MMPareto on IEMOCAP, the joint config's encoders and concat fusion, on the BB
# schedule of its joint config (AdamW lr 1e-3, 30 epochs, StepLR(10)). See
# configs/mmpareto/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/mmpareto.py']
model = _base_.mmpareto_model
