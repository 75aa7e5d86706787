import torch.nn as nn


class SNLINet(nn.Module):
    def __init__(self, n_layers=3, n_hid=256):
        super().__init__()
        self.embed = nn.Linear(300, n_hid)
        self.hids = nn.ModuleList()
        for _ in range(n_layers):
            self.hids.append(nn.Linear(n_hid, n_hid))
        self.classifier = nn.Linear(n_hid, 3)

    def forward(self, x):
        h = self.embed(x).tanh()
        for layer in self.hids:
            h = layer(h).tanh()
        return self.classifier(h)
