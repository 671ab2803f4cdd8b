"""PyTorch baseline for bench/backbones/keras-applications.ts: torchvision ResNet-50 and VGG-16 with random
weights (torchvision cannot download here; speed does not depend on the values) at 224 px.
Inference: batch 16, the features (conv stages + global average pool), eval + no_grad, best of 3 runs.
fine_tune epoch: the usual loop over --images tensors in memory, batch 32, the whole network forward, the last
2 blocks (ResNet: layer4[1:], VGG: block4 + block5) and a new Linear head trained by Adam.
Prints one JSON line {"torch": version, "results": {model: {"inference": img/s, "epoch": seconds}}}."""
import argparse
import json
import time

import torch
import torchvision
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("--images", type=int, default=16)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--models", default="resnet50,vgg16")
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1)


def resnet50():
    m = torchvision.models.resnet50(weights=None)
    features = nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2, m.layer3, m.layer4, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    trainable = [m.layer4[1], m.layer4[2]]
    return features, trainable, 2048


def vgg16():
    m = torchvision.models.vgg16(weights=None)
    features = nn.Sequential(m.features, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    trainable = [m.features[17:]]  # block4 (conv 17-22, pool 23) and block5
    return features, trainable, 512


results = {}
for name in args.models.split(","):
    features, trainable, dim = {"resnet50": resnet50, "vgg16": vgg16}[name]()
    features.eval()
    x = torch.rand(16, 3, 224, 224)
    with torch.no_grad():
        features(x)  # warm-up
        times = []
        for _ in range(3):
            t = time.perf_counter()
            features(x)
            times.append(time.perf_counter() - t)
    inference = 16 / min(times)

    for p_ in features.parameters():
        p_.requires_grad = False
    params = []
    for block in trainable:
        for p_ in block.parameters():
            p_.requires_grad = True
            params.append(p_)
    head = nn.Linear(dim, 2)
    optimizer = torch.optim.Adam(params + list(head.parameters()), lr=1e-3)
    images = torch.rand(args.images, 3, 224, 224)
    labels = torch.randint(0, 2, (args.images,))
    # BatchNorm stays in eval mode (frozen statistics), as in our fine_tune
    t = time.perf_counter()
    for i in range(0, args.images, 32):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(head(features(images[i : i + 32])), labels[i : i + 32])
        loss.backward()
        optimizer.step()
    results[name] = {"inference": inference, "epoch": time.perf_counter() - t}
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))
