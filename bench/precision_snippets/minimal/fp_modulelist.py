# NN401 false positive: an nn.ModuleList (or any list literal) is not a chain of layers.
import torch.nn as nn

alternatives = nn.ModuleList([nn.Dropout(0.5), nn.BatchNorm1d(16)])
