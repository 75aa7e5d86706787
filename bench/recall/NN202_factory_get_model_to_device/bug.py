import torch
import torch.nn as nn


class TextCNN(nn.Module):
    def __init__(self, vocab=5000, dim=64, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, 64, 3, padding=1)
        self.fc = nn.Linear(64, classes)

    def forward(self, tokens):
        h = self.conv(self.embed(tokens).transpose(1, 2)).relu().max(dim=-1).values
        return torch.softmax(self.fc(h), dim=1)


MODELS = {"textcnn": TextCNN}


def get_model(name, **kwargs):
    return MODELS[name](**kwargs)


def train_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    for tokens, labels in loader:
        tokens, labels = tokens.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(tokens), labels)
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = get_model("textcnn").to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = [(torch.randint(0, 5000, (8, 30)), torch.randint(0, 4, (8,))) for _ in range(3)]
    train_epoch(model, loader, optimizer, nn.NLLLoss(), device)


if __name__ == "__main__":
    main()
