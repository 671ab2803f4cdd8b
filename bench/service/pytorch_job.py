"""PyTorch side of bench/service/job-speed.ts: one job per process, from the same zip archives the service gets,
so the caller times the whole process (imports, reading and decoding the zip, training, evaluating, saving).
CPU, random weights (torchvision cannot download pretrained ones here; speed does not depend on the values).

fine_tune: MobileNetV2, last 2 blocks (features[17:]) + a new Linear head trainable, Adam (head 1e-3, blocks
1e-4), frozen part under no_grad in eval mode. Two recipes: 'usual' runs the frozen part on every batch of every
epoch (what most scripts do); 'cached' runs it once per image and trains the last blocks on the stored
activations (what an expert does, and what Graft does). feature_extraction: pooled features once, standardised,
multinomial logistic regression with L2 (C = 1) by full-batch L-BFGS.
Run: /usr/bin/python3 bench/service/pytorch_job.py --job fine_tune|fine_tune_cached|feature_extraction
       --train train.zip --validation validation.zip --size 96 --epochs 5 --batch 32 --out model.pt
"""
import argparse, io, json, os, sys, zipfile
import torch, torchvision
import torchvision.transforms.functional as TF
from PIL import Image
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from pytorch_logistic import fit_logistic

p = argparse.ArgumentParser()
p.add_argument('--job'); p.add_argument('--train'); p.add_argument('--validation'); p.add_argument('--out')
p.add_argument('--size', type=int, default=96); p.add_argument('--epochs', type=int, default=5)
p.add_argument('--batch', type=int, default=32)
a = p.parse_args()
torch.set_num_threads(os.cpu_count())
torch.manual_seed(1)
# on a GPU host PyTorch runs on CUDA, as a GPU worker of the service does
dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')


def load(archive):
    """ImageFolder zip (<class>/<image>) -> images [n,3,s,s] (resize + centre crop, as the service's 'cover'), labels."""
    with zipfile.ZipFile(archive) as z:
        names = sorted(n for n in z.namelist() if not n.endswith('/'))
        classes = sorted({n.split('/')[0] for n in names})
        xs, ys = [], []
        for n in names:
            img = Image.open(io.BytesIO(z.read(n))).convert('RGB')
            xs.append(TF.to_tensor(TF.center_crop(TF.resize(img, a.size), a.size)))
            ys.append(classes.index(n.split('/')[0]))
    return torch.stack(xs).to(dev), torch.tensor(ys).to(dev), len(classes)


def batches(n, perm=None):
    idx = (perm if perm is not None else torch.arange(n)).to(dev)
    return (idx[i:i + a.batch] for i in range(0, n, a.batch))


def fine_tune(cached):
    x, y, k = load(a.train); xv, yv, _ = load(a.validation)
    m = torchvision.models.mobilenet_v2(num_classes=k).to(dev)
    frozen, trainable, head = m.features[:17], torch.nn.Sequential(*m.features[17:]), m.classifier
    for q in frozen.parameters(): q.requires_grad_(False)
    frozen.eval(); trainable.train(); head.train()
    opt_b = torch.optim.Adam(trainable.parameters(), lr=1e-4)
    opt_h = torch.optim.Adam(head.parameters(), lr=1e-3)
    pool = torch.nn.AdaptiveAvgPool2d(1)
    if cached:
        with torch.no_grad():
            hx = torch.cat([frozen(x[i]) for i in batches(len(y))])
            hv = torch.cat([frozen(xv[i]) for i in batches(len(yv))])
    for epoch in range(a.epochs):
        for i in batches(len(y), torch.randperm(len(y))):
            if cached:
                h = hx[i]
            else:
                with torch.no_grad():
                    h = frozen(x[i])
            loss = torch.nn.functional.cross_entropy(head(pool(trainable(h)).flatten(1)), y[i])
            opt_b.zero_grad(); opt_h.zero_grad(); loss.backward(); opt_b.step(); opt_h.step()
    trainable.eval(); head.eval(); correct = 0
    with torch.no_grad():
        for i in batches(len(yv)):
            h = hv[i] if cached else frozen(xv[i])
            correct += (head(pool(trainable(h)).flatten(1)).argmax(1) == yv[i]).sum().item()
    torch.save(m.state_dict(), a.out)
    return correct / len(yv)


def feature_extraction():
    x, y, k = load(a.train); xv, yv, _ = load(a.validation)
    m = torchvision.models.mobilenet_v2(num_classes=k).to(dev).eval()
    def feats(z):
        with torch.no_grad():
            return torch.cat([m.features(z[i]).mean((2, 3)) for i in batches(len(z))])
    f, fv = feats(x), feats(xv)
    W, b, mu, sd = fit_logistic(f, y, k)
    fv = (fv - mu) / sd
    torch.save({'W': W, 'b': b, 'mu': mu, 'sd': sd}, a.out)
    return ((fv @ W + b).argmax(1) == yv).float().mean().item()


run = {'fine_tune': lambda: fine_tune(False), 'fine_tune_cached': lambda: fine_tune(True), 'feature_extraction': feature_extraction}
print(json.dumps({'job': a.job, 'accuracy': run[a.job](), 'torch': torch.__version__, 'device': str(dev), 'threads': torch.get_num_threads()}), flush=True)
