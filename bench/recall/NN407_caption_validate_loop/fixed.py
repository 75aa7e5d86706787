import torch
import torch.nn as nn


@torch.no_grad()
def validate(val_loader, encoder, decoder, criterion):
    decoder.eval()
    encoder.eval()
    losses = []
    for imgs, caps in val_loader:
        scores = decoder(encoder(imgs))
        losses.append(criterion(scores, caps).item())
    return sum(losses) / len(losses)


def main():
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    decoder = nn.Linear(8, 100)
    criterion = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()))
    val_loader = [(torch.randn(4, 3, 32, 32), torch.randint(0, 100, (4,)))]
    for epoch in range(2):
        encoder.train()
        decoder.train()
        for imgs, caps in val_loader:
            opt.zero_grad()
            loss = criterion(decoder(encoder(imgs)), caps)
            loss.backward()
            opt.step()
        print(validate(val_loader, encoder, decoder, criterion))


if __name__ == "__main__":
    main()
