# The probe's feature squash x / (m + |x|) (methods/feature-compression.ts) against plain standardisation, on the
# block features bench/engine/block-features-dump.ts wrote: per data set, a probe trained on one seed's images
# (L2 logistic regression, C by stratified 5-fold CV on the held-out log-loss, as linear-probe.ts) is tested on
# the other seeds' images; printed table (not a timed test).
#   OPENBLAS_NUM_THREADS=1 nice /usr/bin/python3 bench/engine/probe_squash.py [DIR] [--sets fashion,digits,shifted] [--seeds 1,2,3]
# The probe is fitted in its dual (n << d: the weights are Z^T A), the same optimum as the primal fit.
import argparse, json, os, tempfile, time
import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax

ap = argparse.ArgumentParser()
ap.add_argument('dir', nargs='?', default=os.path.join(tempfile.gettempdir(), 'graft-block-features'))
ap.add_argument('--sets', default='fashion,digits,shifted')
ap.add_argument('--seeds', default='1,2,3')
args = ap.parse_args()
C_GRID = [0.003, 0.01, 0.03, 0.1]

def load(name):
    meta = json.load(open(f'{args.dir}/{name}.json'))
    x = np.fromfile(f'{args.dir}/{name}.f32', dtype=np.float32).reshape(meta['n'], -1).astype(np.float64)
    return x, np.array(meta['labels'])

def fit(K, y, C, k):
    # scikit-learn's objective 0.5·|W|² + C·Σ cross-entropy, with W = Zᵀ A so that |W|² = tr(Aᵀ K A)
    n = K.shape[0]; Y = np.eye(k)[y]
    def f(p):
        A = p[:n * k].reshape(n, k); S = K @ A + p[n * k:]; L = logsumexp(S, axis=1)
        G = C * (np.exp(S - L[:, None]) - Y)
        return C * np.sum(L - np.sum(S * Y, 1)) + 0.5 * np.sum(A * (K @ A)), np.concatenate([(K @ G + K @ A).ravel(), G.sum(0)])
    return minimize(f, np.zeros(n * k + k), jac=True, method='L-BFGS-B', options={'maxiter': 1000, 'gtol': 1e-5}).x

def probs(p, K, n, k):
    return softmax(K @ p[:n * k].reshape(n, k) + p[n * k:], axis=1)

def folds(y, nf=5):
    rng = np.random.RandomState(0); f = np.zeros(len(y), int)
    for c in np.unique(y):
        idx = np.where(y == c)[0]; rng.shuffle(idx); f[idx] = np.arange(len(idx)) % nf
    return f

def cv_c(K, y, k):
    fo = folds(y); losses = []
    for C in C_GRID:
        ll = 0.0
        for q in range(5):
            a, b = fo != q, fo == q
            P = probs(fit(K[np.ix_(a, a)], y[a], C, k), K[np.ix_(b, a)], a.sum(), k)
            ll -= np.sum(np.log(np.clip(P[np.arange(b.sum()), y[b]], 1e-12, 1)))
        losses.append(ll)
    return C_GRID[int(np.argmin(losses))]

def standardise(tr, te):
    mu = tr.mean(0); sd = tr.std(0); sd[sd < 1e-6] = 1
    return (tr - mu) / sd, (te - mu) / sd

def squash(tr, te):
    m = np.abs(tr).mean(0); m[m < 1e-12] = 1; m = np.maximum(m, 1e-3)
    return standardise(tr / (m + np.abs(tr)), te / (m + np.abs(te)))

print('| data, 40 labels/class | features | trained on seed → tested on the others | mean | C chosen |')
print('|---|---|---|---|---|')
seeds = args.seeds.split(',')
for name in args.sets.split(','):
    data = {s: load(f'{name}-{s}') for s in seeds}
    for label, transform in [('standardised', standardise), ('squashed, standardised', squash)]:
        accs, cs, t0 = [], [], time.time()
        for s in seeds:
            x, y = data[s]; k = int(y.max()) + 1
            xte = np.vstack([data[o][0] for o in seeds if o != s]); yte = np.concatenate([data[o][1] for o in seeds if o != s])
            z, zt = transform(x, xte); K = z @ z.T; C = cv_c(K, y, k)
            accs.append(float((probs(fit(K, y, C, k), zt @ z.T, len(y), k).argmax(1) == yte).mean())); cs.append(C)
        print(f"| {name} | {label} | {' / '.join(f'{a:.3f}' for a in accs)} | {np.mean(accs):.3f} | {cs} |", flush=True)
