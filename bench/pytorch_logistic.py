"""The PyTorch baselines' linear probe, shared by bench/engine/speed_pytorch.py and bench/service/pytorch_job.py:
multinomial logistic regression with L2 (C = 1, scikit-learn's convention) by full-batch L-BFGS on standardised
features. Returns the weights, bias and the standardisation."""
import torch


def fit_logistic(f, y, k):
    mu, sd = f.mean(0), f.std(0, unbiased=False).clamp_min(1e-6)
    f = (f - mu) / sd
    W = torch.zeros(f.shape[1], k, device=f.device, requires_grad=True); b = torch.zeros(k, device=f.device, requires_grad=True)
    alpha = 1.0 / len(y)
    opt = torch.optim.LBFGS([W, b], max_iter=1000, tolerance_grad=1e-4, history_size=10, line_search_fn='strong_wolfe')
    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(f @ W + b, y) + alpha / 2 * (W * W).sum()
        loss.backward(); return loss
    opt.step(closure)
    return W, b, mu, sd
