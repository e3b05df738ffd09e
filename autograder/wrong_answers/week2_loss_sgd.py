"""Wrong and alternative right answers for week 2, losses and gradient descent."""
from autograder.wrong_answers import right, with_hints, wrong

MSE = "mse_tests"
SOFTMAX = "softmax_tests"
CE = "cross_entropy_tests"
BCE = "binary_cross_entropy_tests"
NUMGRAD = "numerical_gradient_tests"
LOGGRAD = "logistic_gradients_tests"
STEP = "sgd_step_tests"
TRAIN = "train_logistic_sgd_tests"

CASES = [
    # --- mse ---------------------------------------------------------------------------
    wrong("mse_sum_instead_of_mean", "mse", """
        def mse(y_true, y_pred):
            return float(np.sum((np.asarray(y_true) - np.asarray(y_pred)) ** 2))
        """, MSE),
    wrong("mse_root", "mse", """
        def mse(y_true, y_pred):
            return float(np.sqrt(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)))
        """, MSE, "that is the RMSE"),
    wrong("mse_not_squared", "mse", """
        def mse(y_true, y_pred):
            return float(np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred))))
        """, MSE),
    wrong("mse_sums_over_outputs", "mse", """
        def mse(y_true, y_pred):
            d = np.atleast_2d(np.asarray(y_true) - np.asarray(y_pred))
            return float(np.mean(np.sum(d ** 2, axis=-1)))
        """, MSE),
    right("mse_square_and_average", "mse", """
        def mse(y_true, y_pred):
            diff = np.subtract(y_true, y_pred, dtype=float)
            return np.square(diff).sum() / diff.size
        """),
    # --- softmax -----------------------------------------------------------------------
    wrong("softmax_without_max_subtraction", "softmax", """
        def softmax(z):
            e = np.exp(z)
            return e / np.sum(e, axis=-1, keepdims=True)
        """, SOFTMAX, "nan for logits of 1000"),
    wrong("softmax_over_the_wrong_axis", "softmax", """
        def softmax(z):
            z = np.asarray(z, dtype=float)
            e = np.exp(z - np.max(z))
            return e / np.sum(e, axis=0, keepdims=True)
        """, SOFTMAX),
    wrong("softmax_divides_by_sum_of_logits", "softmax", """
        def softmax(z):
            z = np.asarray(z, dtype=float)
            return np.exp(z - z.max(axis=-1, keepdims=True)) / np.sum(z, axis=-1, keepdims=True)
        """, SOFTMAX),
    wrong("softmax_no_normalisation", "softmax", """
        def softmax(z):
            z = np.asarray(z, dtype=float)
            return np.exp(z - np.max(z, axis=-1, keepdims=True))
        """, SOFTMAX),
    right("softmax_scipy", "softmax", """
        import scipy.special
        def softmax(z):
            return scipy.special.softmax(z, axis=-1)
        """),
    right("softmax_log_sum_exp", "softmax", """
        from scipy.special import logsumexp
        def softmax(z):
            z = np.asarray(z, dtype=float)
            return np.exp(z - logsumexp(z, axis=-1, keepdims=True))
        """),
    # --- cross-entropy -------------------------------------------------------------------
    wrong("cross_entropy_sum_over_batch", "cross_entropy", """
        def cross_entropy(y_onehot, p):
            return float(-np.sum(np.asarray(y_onehot) * np.log(p)))
        """, CE),
    wrong("cross_entropy_no_minus", "cross_entropy", """
        def cross_entropy(y_onehot, p):
            return float(np.mean(np.sum(np.asarray(y_onehot) * np.log(p), axis=-1)))
        """, CE),
    wrong("cross_entropy_log10", "cross_entropy", """
        def cross_entropy(y_onehot, p):
            return float(-np.mean(np.sum(np.asarray(y_onehot) * np.log10(p), axis=-1)))
        """, CE),
    right("cross_entropy_pick_true_class", "cross_entropy", """
        def cross_entropy(y_onehot, p):
            y, p = np.atleast_2d(y_onehot), np.atleast_2d(p)
            return -np.mean(np.log(p[np.arange(len(p)), y.argmax(axis=1)]))
        """),
    # --- binary cross-entropy -------------------------------------------------------------
    wrong("bce_not_clipped", "binary_cross_entropy", """
        def binary_cross_entropy(y, p):
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        """, BCE, "nan at p = 0 or 1"),
    wrong("bce_terms_swapped", "binary_cross_entropy", """
        def binary_cross_entropy(y, p):
            p = np.clip(p, 1e-12, 1 - 1e-12)
            return float(-np.mean((1 - y) * np.log(p) + y * np.log(1 - p)))
        """, BCE),
    wrong("bce_sum", "binary_cross_entropy", """
        def binary_cross_entropy(y, p):
            p = np.clip(p, 1e-12, 1 - 1e-12)
            return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
        """, BCE),
    right("bce_where", "binary_cross_entropy", """
        def binary_cross_entropy(y, p):
            p = np.asarray(p, dtype=float)
            prob_of_truth = np.where(np.asarray(y) == 1, p, 1 - p)
            return float(np.mean(-np.log(np.maximum(prob_of_truth, 1e-15))))
        """),
    # --- numerical gradient ------------------------------------------------------------------
    wrong("numgrad_forward_difference", "numerical_gradient", """
        def numerical_gradient(f, x, eps=1e-5):
            x = np.array(x, dtype=float)
            g = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                up = x.copy(); up[i] += eps
                g[i] = (f(up) - f(x)) / eps
            return g
        """, NUMGRAD),
    wrong("numgrad_forgets_the_2", "numerical_gradient", """
        def numerical_gradient(f, x, eps=1e-5):
            x = np.array(x, dtype=float)
            g = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                up, down = x.copy(), x.copy()
                up[i] += eps; down[i] -= eps
                g[i] = (f(up) - f(down)) / eps
            return g
        """, NUMGRAD),
    wrong("numgrad_changes_x", "numerical_gradient", """
        def numerical_gradient(f, x, eps=1e-5):
            g = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                x[i] += eps; up = f(x)
                x[i] -= 2 * eps; down = f(x)
                g[i] = (up - down) / (2 * eps)
            return g
        """, NUMGRAD, "leaves x shifted by -eps"),
    wrong("numgrad_flat_arrays_only", "numerical_gradient", """
        def numerical_gradient(f, x, eps=1e-5):
            g = []
            for i in range(len(x)):
                e = np.zeros(len(x)); e[i] = eps
                g.append((f(x + e) - f(x - e)) / (2 * eps))
            return np.array(g)
        """, NUMGRAD, "fails for a 2-D x"),
    right("numgrad_flat_view", "numerical_gradient", """
        def numerical_gradient(f, x, eps=1e-5):
            x = np.asarray(x, dtype=float)
            flat = x.ravel()
            g = np.empty(flat.size)
            for i in range(flat.size):
                e = np.zeros(flat.size); e[i] = eps
                g[i] = (f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape))) / (2 * eps)
            return g.reshape(x.shape)
        """),
    # --- logistic gradients -------------------------------------------------------------------
    wrong("loggrad_without_1_over_n", "logistic_gradients", """
        def logistic_gradients(X, y, w, b):
            err = sigmoid(X @ w + b) - y
            return X.T @ err, float(np.sum(err))
        """, LOGGRAD),
    wrong("loggrad_sign_error", "logistic_gradients", """
        def logistic_gradients(X, y, w, b):
            err = y - sigmoid(X @ w + b)
            return X.T @ err / len(y), float(np.mean(err))
        """, LOGGRAD),
    wrong("loggrad_linear_not_sigmoid", "logistic_gradients", """
        def logistic_gradients(X, y, w, b):
            err = X @ w + b - y
            return X.T @ err / len(y), float(np.mean(err))
        """, LOGGRAD, "the gradient of the MSE of a linear model"),
    right("loggrad_loop", "logistic_gradients", """
        def logistic_gradients(X, y, w, b):
            dw, db = np.zeros_like(w, dtype=float), 0.0
            for xi, yi in zip(X, y):
                e = 1 / (1 + np.exp(-(np.dot(xi, w) + b))) - yi
                dw += e * xi
                db += e
            return dw / len(y), db / len(y)
        """),
    # --- sgd_step ------------------------------------------------------------------------------
    wrong("step_sign_error", "sgd_step", """
        def sgd_step(params, grads, lr):
            return [p + lr * g for p, g in zip(params, grads)]
        """, STEP),
    wrong("step_ignores_lr", "sgd_step", """
        def sgd_step(params, grads, lr):
            return [p - g for p, g in zip(params, grads)]
        """, STEP),
    wrong("step_only_first_parameter", "sgd_step", """
        def sgd_step(params, grads, lr):
            return [params[0] - lr * grads[0], *params[1:]]
        """, STEP),
    right("step_index_loop", "sgd_step", """
        def sgd_step(params, grads, lr):
            new = []
            for i in range(len(params)):
                new.append(np.subtract(params[i], np.multiply(lr, grads[i])))
            return new
        """),
    # --- train_logistic_sgd ------------------------------------------------------------------------
    wrong("train_never_shuffles", "train_logistic_sgd", """
        def train_logistic_sgd(X, y, lr, epochs, batch_size, seed=0):
            w, b, losses = np.zeros(X.shape[1]), 0.0, []
            for _ in range(epochs):
                for start in range(0, len(y), batch_size):
                    dw, db = logistic_gradients(X[start:start + batch_size], y[start:start + batch_size], w, b)
                    w, b = sgd_step([w, b], [dw, db], lr)
                losses.append(binary_cross_entropy(y, sigmoid(X @ w + b)))
            return w, float(b), losses
        """, TRAIN),
    wrong("train_full_batch_gradient", "train_logistic_sgd", """
        def train_logistic_sgd(X, y, lr, epochs, batch_size, seed=0):
            rng = np.random.default_rng(seed)
            w, b, losses = np.zeros(X.shape[1]), 0.0, []
            for _ in range(epochs):
                order = rng.permutation(len(y))
                for start in range(0, len(y), batch_size):
                    dw, db = logistic_gradients(X, y, w, b)
                    w, b = sgd_step([w, b], [dw, db], lr)
                losses.append(binary_cross_entropy(y, sigmoid(X @ w + b)))
            return w, float(b), losses
        """, TRAIN, "shuffles, but every step uses all the data"),
    wrong("train_loss_before_the_epoch", "train_logistic_sgd", """
        def train_logistic_sgd(X, y, lr, epochs, batch_size, seed=0):
            rng = np.random.default_rng(seed)
            w, b, losses = np.zeros(X.shape[1]), 0.0, []
            for _ in range(epochs):
                losses.append(binary_cross_entropy(y, sigmoid(X @ w + b)))
                order = rng.permutation(len(y))
                for start in range(0, len(y), batch_size):
                    batch = order[start:start + batch_size]
                    dw, db = logistic_gradients(X[batch], y[batch], w, b)
                    w, b = sgd_step([w, b], [dw, db], lr)
            return w, float(b), losses
        """, TRAIN),
    right("train_shuffle_in_place", "train_logistic_sgd", """
        def train_logistic_sgd(X, y, lr, epochs, batch_size, seed=0):
            rng = np.random.default_rng(seed)
            idx = np.arange(len(y))
            w, b, losses = np.zeros(X.shape[1]), 0.0, []
            for epoch in range(epochs):
                rng.shuffle(idx)
                for batch in np.array_split(idx, int(np.ceil(len(idx) / batch_size))):
                    w, b = sgd_step([w, b], list(logistic_gradients(X[batch], y[batch], w, b)), lr)
                losses.append(binary_cross_entropy(y, sigmoid(X @ w + b)))
            return w, b, losses
        """),
]

# What the feedback must say for each mistake (checked by the catalogue: the hint fires).
HINTS = {
    "bce_sum": "take the mean, not the sum.",
    "numgrad_flat_arrays_only": "return an array of the shape of x",
    "mse_root": "40 is the size of the error, not its square",
    "mse_not_squared": "40 is the size of the error, not its square",
    "cross_entropy_log10": "use the natural logarithm np.log, not log10.",
    "mse_sum_instead_of_mean": "take the mean over the outputs, not the sum.",
    "mse_sums_over_outputs": "take the mean over the outputs, not the sum.",
    "softmax_without_max_subtraction": "exp(1000) overflows: subtract the largest logit first.",
    "softmax_over_the_wrong_axis": "each row (the last axis) must sum to 1, not each column.",
    "cross_entropy_sum_over_batch": "take the mean over the batch, not the sum.",
    "cross_entropy_no_minus": "the cross-entropy has a minus sign: it is never negative.",
    "bce_not_clipped": "0 * ln(0) is nan in NumPy: clip p away from 0 and 1 first.",
    "bce_terms_swapped": "the two terms are swapped: y goes with ln p, (1 - y) with ln(1 - p).",
    "numgrad_forward_difference": "close but not accurate enough: use central differences",
    "numgrad_forgets_the_2": "divide by 2*eps: the two points are 2*eps apart.",
    "numgrad_changes_x": "work on a copy of x",
    "loggrad_without_1_over_n": "divide by the number of examples: the cost is a mean.",
    "loggrad_sign_error": "the sign is flipped: it is p - y.",
    "step_sign_error": "step against the gradient: p - lr * g.",
    "step_ignores_lr": "multiply the gradient by the learning rate.",
    "train_loss_before_the_epoch": "append the cost after the epoch's updates, on all the training data.",
}
CASES = with_hints(CASES, HINTS)
