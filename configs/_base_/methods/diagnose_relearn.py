# Diagnosing & Re-learning (configs/diagnose_relearn/README.md): joint
# training, and every few epochs each encoder is pulled back towards its
# initial parameters by tanh(lambda |purity_train - purity_val|). A method
# config names this file after its dataset's joint config and scales the
# schedule of diagnoses to the run, e.g.
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/diagnose_relearn.py']
#     custom_hooks = _base_.diagnose_relearn_custom_hooks
diagnose_relearn_hook = dict(
    type='DiagnoseRelearnHook',
    # code/script/ours.sh: 90 epochs, diagnoses before epochs 20, 40 and 60
    reinit_every=20,
    max_reinits=3,
    move_lambda=3.0,
    # the training split with the test pipeline (no augmentation, as the
    # code's diagnosis) against the validation split (the paper's)
    train_dataloader='train_eval_dataloader',
    diagnosis_dataloader='val_dataloader')
diagnose_relearn_custom_hooks = [diagnose_relearn_hook]
