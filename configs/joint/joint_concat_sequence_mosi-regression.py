# Joint training on CMU-MOSI as regression, the field's first task: one output,
# L1 loss on the sentiment score, MMSA's metrics (configs/_base_/tasks/
# sentiment_regression.py); the lowest validation MAE selects the checkpoint.
_base_ = ['./joint_concat_sequence_mosi.py',
          '../_base_/tasks/sentiment_regression.py']
model = _base_.regression_model
val_evaluator = _base_.regression_evaluator
test_evaluator = val_evaluator
default_hooks = _base_.regression_hooks
