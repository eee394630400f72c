# Sentiment as regression (CMU-MOSI / MOSEI): the blocks a joint config of
# the classification task takes to predict the score in [-3, 3] instead. A
# leaf names this file after its dataset's joint config:
#     _base_ = ['./joint_concat_sequence_<dataset>.py',
#               '../_base_/tasks/sentiment_regression.py']
#     model = _base_.regression_model
#     val_evaluator = _base_.regression_evaluator
#     test_evaluator = val_evaluator
#     default_hooks = _base_.regression_hooks
# One output (MultimodalRegressor: the same encoders and fusion), L1 loss
# as MMSA; MMSA's metrics fused and per modality; lowest validation MAE kept.
regression_model = dict(type='MultimodalRegressor', num_classes=1,
                        loss=dict(type='torch.nn.L1Loss'))
regression_evaluator = [dict(type='SentimentRegressionMetric')]
regression_hooks = dict(
    checkpoint=dict(save_best='sentiment/mae', rule='less'))
