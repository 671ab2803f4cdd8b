"""PyTorch eager baseline for bench/predict: MobileNetV2 (random weights; torchvision cannot download
here) with the same class count and image size, single-image latency and batch-32 throughput, on
the same cores. Prints one JSON line. Run with /usr/bin/python3 (Debian python3-torch)."""
import json
import statistics
import sys
import time

import torch
import torchvision

size = int(sys.argv[1]) if len(sys.argv) > 1 else 224
classes = int(sys.argv[2]) if len(sys.argv) > 2 else 10
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)

model = torchvision.models.mobilenet_v2(num_classes=classes).eval()


def timed(batch):
    x = torch.rand(batch, 3, size, size)
    with torch.no_grad():
        start = time.perf_counter()
        torch.softmax(model(x), dim=1)
        return time.perf_counter() - start


for _ in range(3):
    timed(1)
single = []
end = time.time() + seconds
while time.time() < end:
    single.append(timed(1))
single.sort()
timed(32)
batch = []
end = time.time() + seconds
while time.time() < end or len(batch) < 3:
    batch.append(timed(32))

print(json.dumps({
    "torch": torch.__version__,
    "threads": torch.get_num_threads(),
    "p50_ms": statistics.median(single) * 1000,
    "p99_ms": single[min(len(single) - 1, int(len(single) * 0.99))] * 1000,
    "single_n": len(single),
    "batch32_img_s": 32 / statistics.median(batch),
}))
