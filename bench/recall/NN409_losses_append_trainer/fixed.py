import torch
import torch.nn as nn


class DepthTrainer:
    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
        self.outputs = []

    def train_epoch(self, loader):
        self.model.train()
        for image, depth in loader:
            self.optimizer.zero_grad()
            loss = nn.functional.l1_loss(self.model(image), depth)
            loss.backward()
            self.optimizer.step()
            self.outputs.append(loss.detach())
        return torch.stack(self.outputs).mean().item()


if __name__ == "__main__":
    torch.manual_seed(0)
    trainer = DepthTrainer(nn.Conv2d(3, 1, 3, padding=1))
    print(trainer.train_epoch([(torch.randn(2, 3, 16, 16), torch.rand(2, 1, 16, 16))]))
