"""PyTorch baseline for bench/onnx/inference.ts: torchvision MobileNetV2 (random weights: torchvision
cannot download here, and speed does not depend on the values) in eval mode, NCHW float32.
Prints one JSON object {"<size>x<batch>": {"median": images/s, "best": images/s}}."""
import json
import sys
import time

import torch
import torchvision

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads())
model = torchvision.models.mobilenet_v2(weights=None).eval()
results = {}
with torch.no_grad():
    for size in (96, 224):
        for batch in (1, 32):
            x = torch.rand(batch, 3, size, size)
            for _ in range(3):
                model(x)
            rates = []
            deadline = time.perf_counter() + (2 if batch == 1 else 6)
            while len(rates) < 3 or time.perf_counter() < deadline:
                t = time.perf_counter()
                model(x)
                rates.append(batch / (time.perf_counter() - t))
            rates.sort()
            results[f"{size}x{batch}"] = {"median": rates[len(rates) // 2], "best": rates[-1]}
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rates": results}))
