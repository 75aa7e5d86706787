import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.drop = nn.Dropout(0.5)
        self.bn = nn.BatchNorm1d(256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.bn(F.relu(self.fc1(torch.flatten(x, 1))))
        return self.fc2(self.drop(x))


def val(net, data_loader):
    net.eval()
    correct, total = 0, 0
    for data, target in data_loader:
        with torch.no_grad():
            output = net(data)
        correct += (output.argmax(1) == target).sum().item()
        total += target.numel()
    return correct / total


def train(net, loader, optimizer):
    net.train()
    for data, target in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(data), target)
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    net = Net()
    optimizer = torch.optim.Adam(net.parameters())
    loader = [(torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))) for _ in range(4)]
    for epoch in range(3):
        train(net, loader, optimizer)
        print(epoch, val(net, loader))


if __name__ == "__main__":
    main()
