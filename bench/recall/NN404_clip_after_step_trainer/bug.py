import torch
import torch.nn as nn


class NodePredictionTrainer:
    def __init__(self, model, lr=1e-3, max_grad_norm=1.0):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.max_grad_norm = max_grad_norm

    def fit(self, loader, epochs=1):
        for _ in range(epochs):
            for feats, labels in loader:
                loss = nn.functional.cross_entropy(self.model(feats), labels)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                if self.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)


if __name__ == "__main__":
    torch.manual_seed(0)
    NodePredictionTrainer(nn.Linear(16, 4)).fit([(torch.randn(8, 16), torch.randint(0, 4, (8,)))])
