"""Wrong and alternative right answers for week 2b, backpropagation by hand."""
from autograder.wrong_answers import right, with_hints, wrong

PRIME = "sigmoid_prime_tests"
FORWARD = "forward_with_cache_tests"
BACKWARD = "backward_tests"
RELERR = "relative_error_tests"
GRADCHECK = "gradient_check_tests"
TRAIN = "train_mlp_tests"

# backward() as the solution writes it, with one line changed per mistake ({dZ2}, {dA1}, ...)
_BACKWARD = """
def backward(X, y, params, cache):
    n = X.shape[0]
    y = {y}
    A1, p = cache["A1"], cache["p"]
    dZ2 = {dZ2}
    dA1 = {dA1}
    dZ1 = {dZ1}
    return {{"W1": X.T @ dZ1, "b1": {db1}, "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}}
"""


def _backward(**changes: str) -> str:
    parts = dict(y="np.reshape(y, (n, 1))", dZ2="(p - y) / n", dA1='dZ2 @ params["W2"].T',
                 dZ1="dA1 * A1 * (1 - A1)", db1="dZ1.sum(axis=0)")
    parts.update(changes)
    return _BACKWARD.format(**parts)


# gradient_check() written with a copy of params, and with one change per mistake
_GRADCHECK = """
def gradient_check(params, X, y, eps=1e-5):
    analytic = backward(X, y, params, forward_with_cache(X, params)[1])
    errors = []
    for name in params:
        numeric = np.zeros_like(params[name])
        for i in np.ndindex(params[name].shape):
            {nudge}
            numeric[i] = {slope}
        errors.append({error})
    return {result}
"""
_COPY = """up = {k: v.copy() for k, v in params.items()}; up[name][i] += eps
            down = {k: v.copy() for k, v in params.items()}; down[name][i] -= eps"""


def _gradcheck(nudge: str = _COPY, slope: str = "(cost(up, X, y) - cost(down, X, y)) / (2 * eps)",
               result: str = "max(errors)", error: str = "relative_error(analytic[name], numeric)") -> str:
    return _GRADCHECK.format(nudge=nudge, slope=slope, result=result, error=error)


# train_mlp() with one change per mistake
_TRAIN = """
def train_mlp(X, y, hidden=8, learning_rate=0.5, epochs=200, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = init_params(X.shape[1], hidden, rng)
    losses = []
    for _ in range(epochs):
        {order}
        for start in range({stop}):
            batch = order[start:start + batch_size]
            _, cache = forward_with_cache(X[batch], params)
            grads = backward(X[batch], y[batch], params, cache)
            params = {{k: params[k] - learning_rate * grads[k] for k in params}}
            {per_batch}
        {per_epoch}
    return params, losses
"""


def _train(order: str = "order = rng.permutation(len(X))", stop: str = "0, len(X), batch_size",
           per_batch: str = "pass", per_epoch: str = "losses.append(cost(params, X, y))") -> str:
    return _TRAIN.format(order=order, stop=stop, per_batch=per_batch, per_epoch=per_epoch)


CASES = [
    # --- sigmoid_prime -----------------------------------------------------------------------
    wrong("prime_of_z_not_sigmoid", "sigmoid_prime", """
        def sigmoid_prime(z):
            return z * (1 - z)
        """, PRIME, "a(1 - a) with a = z"),
    wrong("prime_sigmoid_applied_twice", "sigmoid_prime", """
        def sigmoid_prime(z):
            a = sigmoid(sigmoid(z))
            return a * (1 - a)
        """, PRIME, "sigma'(a) for a = sigma(z): the activation passed where z belongs"),
    wrong("prime_tanh_pattern", "sigmoid_prime", """
        def sigmoid_prime(z):
            return 1 - sigmoid(z) ** 2
        """, PRIME, "tanh's derivative"),
    wrong("prime_sign", "sigmoid_prime", """
        def sigmoid_prime(z):
            a = sigmoid(z)
            return a * (1 + a)
        """, PRIME),
    wrong("prime_overflows", "sigmoid_prime", """
        def sigmoid_prime(z):
            e = np.exp(z)
            a = e / (1 + e)
            return a * (1 - a)
        """, PRIME, "nan at z = 1000: e^z / (1 + e^z) overflows"),
    right("prime_expit_of_minus_z", "sigmoid_prime", """
        from scipy.special import expit
        def sigmoid_prime(z):
            return expit(z) * expit(-z)
        """),
    right("prime_textbook_sigmoid", "sigmoid_prime", """
        def sigmoid_prime(z):
            s = 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
            return s * (1 - s)
        """, "overflow warning at z = -1000, value 0: right"),
    # --- forward_with_cache --------------------------------------------------------------------
    wrong("forward_p_flattened", "forward_with_cache", """
        def forward_with_cache(X, params):
            A1 = sigmoid(X @ params["W1"] + params["b1"])
            p = sigmoid(A1 @ params["W2"] + params["b2"]).ravel()
            return p, {"A1": A1, "p": p}
        """, (FORWARD, BACKWARD), "p of shape (n,)"),
    wrong("forward_no_output_sigmoid", "forward_with_cache", """
        def forward_with_cache(X, params):
            A1 = sigmoid(X @ params["W1"] + params["b1"])
            p = A1 @ params["W2"] + params["b2"]
            return p, {"A1": A1, "p": p}
        """, FORWARD),
    wrong("forward_no_hidden_sigmoid", "forward_with_cache", """
        def forward_with_cache(X, params):
            A1 = X @ params["W1"] + params["b1"]
            p = sigmoid(A1 @ params["W2"] + params["b2"])
            return p, {"A1": A1, "p": p}
        """, FORWARD, "two linear layers collapse into one"),
    wrong("forward_no_biases", "forward_with_cache", """
        def forward_with_cache(X, params):
            A1 = sigmoid(X @ params["W1"])
            p = sigmoid(A1 @ params["W2"])
            return p, {"A1": A1, "p": p}
        """, FORWARD),
    right("forward_einsum", "forward_with_cache", """
        def forward_with_cache(X, params):
            Z1 = np.einsum("nd,dh->nh", X, params["W1"]) + params["b1"]
            A1 = 1 / (1 + np.exp(-Z1))
            p = 1 / (1 + np.exp(-(np.einsum("nh,ho->no", A1, params["W2"]) + params["b2"])))
            return p, {"X": X, "Z1": Z1, "A1": A1, "p": p}
        """),
    # --- backward ------------------------------------------------------------------------------
    wrong("backward_sum_over_batch", "backward", _backward(dZ2="p - y"), BACKWARD, "the sum instead of the mean"),
    wrong("backward_sign", "backward", _backward(dZ2="(y - p) / n"), BACKWARD),
    wrong("backward_prime_of_activation", "backward", _backward(dZ1="dA1 * sigmoid_prime(A1)"), BACKWARD,
          "sigma'(a) applied to the activation instead of a(1 - a)"),
    wrong("backward_missing_prime", "backward", _backward(dZ1="dA1"), BACKWARD, "no sigma' factor"),
    wrong("backward_bias_wrong_axis", "backward", _backward(db1="dZ1.sum(axis=1)"), BACKWARD,
          "db1 summed over the hidden units"),
    wrong("backward_y_not_a_column", "backward", _backward(y="y"), BACKWARD,
          "p - y broadcasts to (n, n) when y is (n,)"),
    wrong("backward_w2_not_transposed", "backward", _backward(dA1='dZ2 @ params["W2"]'), BACKWARD,
          "(n, 1) @ (h, 1) fails"),
    right("backward_loops", "backward", """
        def backward(X, y, params, cache):
            n, d = X.shape
            h = params["W1"].shape[1]
            y = np.asarray(y, dtype=float).reshape(-1)
            A1, p = cache["A1"], cache["p"][:, 0]
            g = {k: np.zeros_like(v, dtype=float) for k, v in params.items()}
            for i in range(n):
                dz2 = (p[i] - y[i]) / n
                g["b2"][0] += dz2
                for j in range(h):
                    g["W2"][j, 0] += A1[i, j] * dz2
                    dz1 = dz2 * params["W2"][j, 0] * A1[i, j] * (1 - A1[i, j])
                    g["b1"][j] += dz1
                    for k in range(d):
                        g["W1"][k, j] += X[i, k] * dz1
            return g
        """),
    right("backward_einsum_and_sigmoid_prime", "backward", """
        def backward(X, y, params, cache):
            n = len(X)
            Z1 = X @ params["W1"] + params["b1"]
            A1 = sigmoid(Z1)
            dZ2 = (cache["p"] - np.asarray(y).reshape(n, 1)) / n
            dZ1 = np.einsum("no,ho->nh", dZ2, params["W2"]) * sigmoid_prime(Z1)
            return {"W1": np.einsum("nd,nh->dh", X, dZ1), "b1": np.einsum("nh->h", dZ1),
                    "W2": np.einsum("nh,no->ho", A1, dZ2), "b2": np.einsum("no->o", dZ2)}
        """, "recomputes Z1; sigma'(Z1) through sigmoid_prime"),
    # --- relative_error ------------------------------------------------------------------------
    wrong("relerr_divides_by_a_only", "relative_error", """
        def relative_error(a, b):
            return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-12))
        """, RELERR),
    wrong("relerr_norm_of_sum", "relative_error", """
        def relative_error(a, b):
            return float(np.linalg.norm(a - b) / max(np.linalg.norm(a + b), 1e-12))
        """, RELERR),
    wrong("relerr_no_guard", "relative_error", """
        def relative_error(a, b):
            return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))
        """, RELERR, "0/0 is nan for two zero arrays"),
    wrong("relerr_largest_entry", "relative_error", """
        def relative_error(a, b):
            a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
            return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))
        """, RELERR, "elementwise, not the norm of all entries"),
    right("relerr_by_hand", "relative_error", """
        def relative_error(a, b):
            a = np.asarray(a, dtype=float).ravel()
            b = np.asarray(b, dtype=float).ravel()
            den = np.sqrt(np.sum(a * a)) + np.sqrt(np.sum(b * b))
            return float(np.sqrt(np.sum((a - b) ** 2)) / (den if den > 1e-12 else 1e-12))
        """),
    # --- gradient_check ------------------------------------------------------------------------
    wrong("gradcheck_forward_differences", "gradient_check",
          _gradcheck(nudge="up = {k: v.copy() for k, v in params.items()}; up[name][i] += eps",
                     slope="(cost(up, X, y) - cost(params, X, y)) / eps"), GRADCHECK),
    wrong("gradcheck_changes_params", "gradient_check", _gradcheck(
        nudge="old = params[name][i]\n            params[name][i] = old + eps\n            up_cost = cost(params, X, y)\n"
              "            params[name][i] = old - eps\n            down_cost = cost(params, X, y)",
        slope="(up_cost - down_cost) / (2 * eps)"), GRADCHECK, "never puts the entry back"),
    wrong("gradcheck_mean_of_errors", "gradient_check", _gradcheck(result="float(np.mean(errors))"), GRADCHECK),
    wrong("gradcheck_last_parameter_only", "gradient_check", _gradcheck(result="errors[-1]"), GRADCHECK),
    right("gradcheck_copies_params", "gradient_check", _gradcheck(), "nudges copies of params"),
    # --- train_mlp -----------------------------------------------------------------------------
    wrong("train_never_shuffles", "train_mlp", _train(order="order = np.arange(len(X))"), TRAIN),
    wrong("train_reseeds_every_epoch", "train_mlp",
          _train(order="order = np.random.default_rng(seed).permutation(len(X))"), TRAIN),
    wrong("train_drops_last_batch", "train_mlp", _train(stop="0, len(X) - batch_size + 1, batch_size"), TRAIN),
    wrong("train_loss_per_batch", "train_mlp",
          _train(per_batch="losses.append(cost(params, X, y))", per_epoch="pass"), TRAIN),
    right("train_shuffles_an_index_array", "train_mlp", _train(order="order = np.arange(len(X)); rng.shuffle(order)"),
          "another use of the same generator: other batches, same quality"),
    wrong("train_cost_before_the_epoch", "train_mlp",
          _train(order="losses.append(cost(params, X, y)); order = rng.permutation(len(X))", per_epoch="pass"), TRAIN),
    wrong("gradcheck_absolute_difference", "gradient_check",
          _gradcheck(error="float(np.max(np.abs(analytic[name] - numeric)))"),
          GRADCHECK, "the largest absolute difference, not the relative error"),
]

# What the feedback must say for each mistake (checked by the catalogue: the hint fires).
HINTS = {
    "gradcheck_absolute_difference": "return relative_error(analytic, numerical), the largest over the parameters.",
    "train_cost_before_the_epoch": "append cost(params, X, y) after the epoch's updates",
    "prime_of_z_not_sigmoid": "z * (1 - z) is a * (1 - a) with a = z",
    "prime_sigmoid_applied_twice": "you applied the sigmoid twice",
    "prime_tanh_pattern": "the pattern of tanh's derivative",
    "prime_sign": "a sign: it is a * (1 - a)",
    "prime_overflows": "e^z / (1 + e^z) overflows",
    "forward_p_flattened": "keep p as a column of shape (n, 1)",
    "forward_no_output_sigmoid": "apply the sigmoid to Z2 as well",
    "forward_no_hidden_sigmoid": "apply the sigmoid to the hidden layer too",
    "forward_no_biases": "add the biases",
    "backward_sum_over_batch": "every gradient is n = 5 times too large",
    "backward_sign": "every gradient has the wrong sign",
    "backward_prime_of_activation": "the output layer's gradients are right, the hidden layer's are not",
    "backward_missing_prime": "the output layer's gradients are right, the hidden layer's are not",
    "backward_bias_wrong_axis": "a bias gradient sums dJ/dZ over the batch",
    "backward_y_not_a_column": "p - y broadcasts to an (n, n) matrix",
    "backward_w2_not_transposed": "so W2 (h, 1) is transposed there",
    "relerr_divides_by_a_only": "not by ||a|| alone",
    "relerr_norm_of_sum": "not the norm of a + b",
    "relerr_no_guard": "0 / 0 is nan",
    "relerr_largest_entry": "not the largest relative entry",
    "gradcheck_forward_differences": "forward differences (J(p + eps) - J(p)) / eps are only accurate",
    "gradcheck_changes_params": "put each nudged entry back",
    "gradcheck_mean_of_errors": "does not report the largest relative error over all parameters",
    "gradcheck_last_parameter_only": "does not report the largest relative error over all parameters",
    "train_never_shuffles": "every epoch should see the examples in a new order",
    "train_reseeds_every_epoch": "every epoch should see the examples in a new order",
    "train_drops_last_batch": "the last mini-batch may be smaller",
    "train_loss_per_batch": "append the cost once per epoch",
}
CASES = with_hints(CASES, HINTS)
