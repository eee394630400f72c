# CMU-MOSEI aligned at 50 word pieces (MMSA aligned_50.pkl or MulT
# mosei_senti_data.pkl; audio 74-d COVAREP, vision 35-d Facet), prepared by
# tools/data/prepare_sentiment.py; everything else as CMU-MOSI.
_base_ = './mosi.py'
data_root = 'data/mosei/aligned'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
