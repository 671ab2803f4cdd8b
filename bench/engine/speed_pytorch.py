"""PyTorch baseline for bench/engine/speed.ts: the same jobs on the same PNG folders, CPU, random weights
(torchvision cannot download pretrained ones here; speed does not depend on the values).

fine_tune: MobileNetV2, last 2 blocks (features[17], features[18]) + a new Linear head trainable, Adam
(head 1e-3, blocks 1e-4), frozen part under no_grad in eval mode, the usual PyTorch recipe: every epoch runs
the whole network. feature_extraction: pooled features once, standardised, multinomial logistic regression
with L2 (C = 1, scikit-learn's convention) by full-batch L-BFGS. Both decode the PNGs once into memory first
(included in the time). Prints one JSON line per job.
Run: /usr/bin/python3 bench/engine/speed_pytorch.py --train DIR --test DIR --size 96 --epochs 5 --batch 32
"""
import argparse, json, os, sys, time
import torch, torchvision
import torchvision.transforms.functional as TF
from PIL import Image
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from pytorch_logistic import fit_logistic

p = argparse.ArgumentParser()
p.add_argument('--train'); p.add_argument('--test')
p.add_argument('--size', type=int, default=96); p.add_argument('--epochs', type=int, default=5)
p.add_argument('--batch', type=int, default=32); p.add_argument('--jobs', default='fine_tune,feature_extraction')
a = p.parse_args()
torch.set_num_threads(os.cpu_count())
torch.manual_seed(1)


def load(folder):
    classes = sorted(os.listdir(folder))
    xs, ys = [], []
    for ci, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(folder, c))):
            img = Image.open(os.path.join(folder, c, f)).convert('RGB')
            img = TF.center_crop(TF.resize(img, a.size), a.size)
            xs.append(TF.to_tensor(img)); ys.append(ci)
    return torch.stack(xs), torch.tensor(ys), len(classes)


def fine_tune():
    t0 = time.perf_counter()
    x, y, k = load(a.train); xt, yt, _ = load(a.test)
    m = torchvision.models.mobilenet_v2(num_classes=k)
    frozen, trainable = m.features[:17], torch.nn.Sequential(*m.features[17:])
    for q in frozen.parameters(): q.requires_grad_(False)
    frozen.eval(); trainable.train(); m.classifier.train()
    head = m.classifier
    opt_b = torch.optim.Adam(trainable.parameters(), lr=1e-4)
    opt_h = torch.optim.Adam(head.parameters(), lr=1e-3)
    pool = torch.nn.AdaptiveAvgPool2d(1)
    for epoch in range(a.epochs):
        perm = torch.randperm(len(y))
        for i in range(0, len(y), a.batch):
            idx = perm[i:i + a.batch]
            with torch.no_grad():
                h = frozen(x[idx])
            logits = head(pool(trainable(h)).flatten(1))
            loss = torch.nn.functional.cross_entropy(logits, y[idx])
            opt_b.zero_grad(); opt_h.zero_grad(); loss.backward(); opt_b.step(); opt_h.step()
    m.eval(); correct = 0
    with torch.no_grad():
        for i in range(0, len(yt), 64):
            correct += (m(xt[i:i + 64]).argmax(1) == yt[i:i + 64]).sum().item()
    return time.perf_counter() - t0, correct / len(yt)


def feature_extraction():
    t0 = time.perf_counter()
    x, y, k = load(a.train); xt, yt, _ = load(a.test)
    m = torchvision.models.mobilenet_v2(num_classes=k).eval()
    def feats(z):
        with torch.no_grad():
            return torch.cat([m.features(z[i:i + a.batch]).mean((2, 3)) for i in range(0, len(z), a.batch)])
    f, ft = feats(x), feats(xt)
    W, b, mu, sd = fit_logistic(f, y, k)
    ft = (ft - mu) / sd
    acc = ((ft @ W + b).argmax(1) == yt).float().mean().item()
    return time.perf_counter() - t0, acc


for job in a.jobs.split(','):
    secs, acc = {'fine_tune': fine_tune, 'feature_extraction': feature_extraction}[job]()
    print(json.dumps({'job': job, 'seconds': secs, 'accuracy': acc, 'torch': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)
