"""Wrong and alternative right answers for week 1a, the forward pass."""
from autograder.wrong_answers import right, with_hints, wrong

SIGMOID = "sigmoid_tests"
RELU = "relu_tests"
PERCEPTRON = "perceptron_tests"
NEURON = "neuron_tests"
AB = "matrix_product_tests"
NO_HIDDEN = "predict_no_hidden_tests"
HIDDEN = "predict_hidden_tests"
FORWARD = "forward_tests"
SHAPES = "weight_shapes_tests"
COLLAPSE = "collapse_tests"

CASES = [
    # --- sigmoid -------------------------------------------------------------
    wrong("sigmoid_sign_error", "sigmoid", """
        def sigmoid(z):
            return 1 / (1 + np.exp(z))
        """, SIGMOID, "exp(z) instead of exp(-z): that is sigmoid(-z)"),
    wrong("sigmoid_minus_in_denominator", "sigmoid", """
        def sigmoid(z):
            return 1 / (1 - np.exp(-z))
        """, SIGMOID),
    wrong("sigmoid_is_tanh", "sigmoid", """
        def sigmoid(z):
            return np.tanh(z)
        """, SIGMOID),
    wrong("sigmoid_math_exp_scalars_only", "sigmoid", """
        import math
        def sigmoid(z):
            return 1 / (1 + math.exp(-z))
        """, SIGMOID, "math.exp fails on arrays"),
    wrong("sigmoid_identity", "sigmoid", """
        def sigmoid(z):
            return z
        """, SIGMOID),
    right("sigmoid_scipy_expit", "sigmoid", """
        from scipy.special import expit
        def sigmoid(z):
            return expit(z)
        """),
    right("sigmoid_stable_where", "sigmoid", """
        def sigmoid(z):
            z = np.asarray(z, dtype=float)
            ez = np.exp(-np.abs(z))
            return np.where(z >= 0, 1 / (1 + ez), ez / (1 + ez))
        """, "numerically stable form, no overflow warning"),
    right("sigmoid_exp_over_one_plus_exp", "sigmoid", """
        def sigmoid(z):
            with np.errstate(over="ignore", invalid="ignore"):
                out = np.exp(z) / (1 + np.exp(z))
            return np.where(np.isnan(out), 1.0, out)
        """),
    # --- relu ----------------------------------------------------------------
    wrong("relu_python_max", "relu", """
        def relu(z):
            return max(0, z)
        """, RELU, "Python's max does not work elementwise on arrays"),
    wrong("relu_abs", "relu", """
        def relu(z):
            return np.abs(z)
        """, RELU),
    wrong("relu_clipped_at_one", "relu", """
        def relu(z):
            return np.clip(z, 0, 1)
        """, RELU),
    wrong("relu_negated", "relu", """
        def relu(z):
            return np.maximum(0, -z)
        """, RELU),
    right("relu_where", "relu", """
        def relu(z):
            return np.where(z > 0, z, 0.0)
        """),
    right("relu_mask_multiply", "relu", """
        def relu(z):
            return z * (np.asarray(z) > 0)
        """),
    # --- perceptron ------------------------------------------------------------
    wrong("perceptron_greater_equal", "perceptron", """
        def perceptron(x, w, b):
            return int(np.dot(x, w) + b >= 0)
        """, PERCEPTRON, "output 1 at z = 0"),
    wrong("perceptron_no_bias", "perceptron", """
        def perceptron(x, w, b):
            return int(np.dot(x, w) > 0)
        """, PERCEPTRON),
    wrong("perceptron_returns_z", "perceptron", """
        def perceptron(x, w, b):
            return np.dot(x, w) + b
        """, PERCEPTRON),
    wrong("perceptron_returns_sigmoid", "perceptron", """
        def perceptron(x, w, b):
            return sigmoid(np.dot(x, w) + b)
        """, PERCEPTRON),
    right("perceptron_heaviside_loop", "perceptron", """
        def perceptron(x, w, b):
            z = b
            for xi, wi in zip(x, w):
                z += xi * wi
            return 1 if z > 0 else 0
        """),
    right("perceptron_bool", "perceptron", """
        def perceptron(x, w, b):
            return bool(x @ w + b > 0)
        """),
    # --- neuron ----------------------------------------------------------------
    wrong("neuron_no_bias", "neuron", """
        def neuron(x, w, b):
            return sigmoid(np.dot(x, w))
        """, NEURON),
    wrong("neuron_no_activation", "neuron", """
        def neuron(x, w, b):
            return np.dot(x, w) + b
        """, NEURON),
    wrong("neuron_relu", "neuron", """
        def neuron(x, w, b):
            return relu(np.dot(x, w) + b)
        """, NEURON),
    wrong("neuron_elementwise_no_sum", "neuron", """
        def neuron(x, w, b):
            return sigmoid(x * w + b)
        """, NEURON, "forgot to add up the weighted inputs"),
    right("neuron_sum_of_products", "neuron", """
        def neuron(x, w, b):
            return sigmoid(sum(xi * wi for xi, wi in zip(x, w)) + b)
        """),
    # --- matrix product --------------------------------------------------------
    wrong("matrix_product_slide_typo", "matrix_product", """
        AB = np.array([[11, 4, 18], [24, 6, 12]])
        """, AB, "copied the slide's typo"),
    wrong("matrix_product_transposed", "matrix_product", """
        AB = (A @ B).T
        """, AB),
    wrong("matrix_product_elementwise_first_columns", "matrix_product", """
        AB = A * B[:, :2]
        """, AB, "A * B is elementwise"),
    right("matrix_product_loops", "matrix_product", """
        AB = np.zeros((2, 3))
        for i in range(2):
            for j in range(3):
                AB[i, j] = sum(A[i, k] * B[k, j] for k in range(2))
        """),
    right("matrix_product_np_dot", "matrix_product", """
        AB = np.dot(A, B)
        """),
    # --- predict_no_hidden -------------------------------------------------------
    wrong("no_hidden_forgot_bias", "predict_no_hidden", """
        def predict_no_hidden(X, W, b):
            return sigmoid(X @ W)
        """, NO_HIDDEN),
    wrong("no_hidden_no_sigmoid", "predict_no_hidden", """
        def predict_no_hidden(X, W, b):
            return X @ W + b
        """, NO_HIDDEN),
    wrong("no_hidden_flattened", "predict_no_hidden", """
        def predict_no_hidden(X, W, b):
            return sigmoid(X @ W + b).ravel()
        """, NO_HIDDEN, "returns shape (n,) instead of (n, 1)"),
    wrong("no_hidden_first_row_only", "predict_no_hidden", """
        def predict_no_hidden(X, W, b):
            return sigmoid(X[0] @ W + b)
        """, NO_HIDDEN),
    right("no_hidden_np_dot", "predict_no_hidden", """
        def predict_no_hidden(X, W, b):
            return sigmoid(np.dot(X, W) + b)
        """),
    right("no_hidden_row_loop", "predict_no_hidden", """
        def predict_no_hidden(X, W, b):
            out = np.zeros((len(X), 1))
            for i, row in enumerate(X):
                out[i, 0] = sigmoid(np.sum(row * W[:, 0]) + b[0])
            return out
        """),
    # --- predict_hidden ---------------------------------------------------------
    wrong("hidden_activation_only_at_end", "predict_hidden", """
        def predict_hidden(X, W1, b1, W2, b2):
            return sigmoid((X @ W1 + b1) @ W2 + b2)
        """, HIDDEN),
    wrong("hidden_no_output_sigmoid", "predict_hidden", """
        def predict_hidden(X, W1, b1, W2, b2):
            return sigmoid(X @ W1 + b1) @ W2 + b2
        """, HIDDEN),
    wrong("hidden_forgot_b1", "predict_hidden", """
        def predict_hidden(X, W1, b1, W2, b2):
            return sigmoid(sigmoid(X @ W1) @ W2 + b2)
        """, HIDDEN),
    wrong("hidden_relu_hidden_layer", "predict_hidden", """
        def predict_hidden(X, W1, b1, W2, b2):
            return sigmoid(relu(X @ W1 + b1) @ W2 + b2)
        """, HIDDEN),
    right("hidden_np_matmul", "predict_hidden", """
        def predict_hidden(X, W1, b1, W2, b2):
            return sigmoid(np.matmul(sigmoid(np.matmul(X, W1) + b1), W2) + b2)
        """),
    right("hidden_reuses_no_hidden", "predict_hidden", """
        def predict_hidden(X, W1, b1, W2, b2):
            return predict_no_hidden(predict_no_hidden(X, W1, b1), W2, b2)
        """),
    # --- forward -----------------------------------------------------------------
    wrong("forward_activation_only_at_end", "forward", """
        def forward(X, weights, biases):
            out = X
            for W, b in zip(weights, biases):
                out = out @ W + b
            return sigmoid(out)
        """, FORWARD),
    wrong("forward_skips_last_layer", "forward", """
        def forward(X, weights, biases):
            out = X
            for W, b in zip(weights[:-1], biases[:-1]):
                out = sigmoid(out @ W + b)
            return out
        """, FORWARD),
    wrong("forward_no_biases", "forward", """
        def forward(X, weights, biases):
            out = X
            for W in weights:
                out = sigmoid(out @ W)
            return out
        """, FORWARD),
    wrong("forward_relu_hidden", "forward", """
        def forward(X, weights, biases):
            out = X
            for k, (W, b) in enumerate(zip(weights, biases)):
                z = out @ W + b
                out = sigmoid(z) if k == len(weights) - 1 else relu(z)
            return out
        """, FORWARD),
    right("forward_reduce", "forward", """
        from functools import reduce
        def forward(X, weights, biases):
            return reduce(lambda o, Wb: sigmoid(np.dot(o, Wb[0]) + Wb[1]), zip(weights, biases), X)
        """),
    right("forward_index_loop", "forward", """
        def forward(X, weights, biases):
            for i in range(len(weights)):
                X = sigmoid(X @ weights[i] + biases[i])
            return X
        """),
    # --- shapes --------------------------------------------------------------------
    wrong("shapes_transposed", "weight_shapes", """
        W1_shape = (8, 2)
        W2_shape = (8, 8)
        W3_shape = (1, 8)
        """, SHAPES),
    wrong("shapes_vector_output", "weight_shapes", """
        W1_shape = (2, 8)
        W2_shape = (8, 8)
        W3_shape = (8,)
        """, SHAPES),
    wrong("shapes_off_by_one", "weight_shapes", """
        W1_shape = (3, 8)
        W2_shape = (9, 8)
        W3_shape = (9, 1)
        """, SHAPES, "counted the bias as an input"),
    right("shapes_from_arrays", "weight_shapes", """
        W1_shape = np.zeros((2, 8)).shape
        W2_shape = np.zeros((8, 8)).shape
        W3_shape = np.zeros((8, 1)).shape
        """),
    right("shapes_as_lists", "weight_shapes", """
        W1_shape, W2_shape, W3_shape = [2, 8], [8, 8], [8, 1]
        """),
    # --- collapse --------------------------------------------------------------------
    wrong("collapse_wrong_order", "collapse", """
        def collapse(W, U):
            return U @ W
        """, COLLAPSE),
    wrong("collapse_elementwise", "collapse", """
        def collapse(W, U):
            return W * U
        """, COLLAPSE),
    wrong("collapse_sum", "collapse", """
        def collapse(W, U):
            return W + U
        """, COLLAPSE),
    right("collapse_np_dot", "collapse", """
        def collapse(W, U):
            return np.dot(W, U)
        """),
    right("collapse_einsum", "collapse", """
        def collapse(W, U):
            return np.einsum("ij,jk->ik", W, U)
        """),
    wrong("sigmoid_overflows", "sigmoid", """
        def sigmoid(z):
            e = np.exp(z)
            return e / (1 + e)
        """, SIGMOID, "nan at z = 1000"),
    wrong("hidden_forgot_b2", "predict_hidden", """
        def predict_hidden(X, W1, b1, W2, b2):
            return sigmoid(sigmoid(X @ W1 + b1) @ W2)
        """, HIDDEN),
]

# What the feedback must say for each mistake (checked by the catalogue: the hint fires).
HINTS = {
    "forward_skips_last_layer": "the last layer is missing: loop over all the layers.",
    "hidden_forgot_b2": "did you forget the output bias b2?",
    "sigmoid_overflows": "e^z / (1 + e^z) overflows for large z",
    "sigmoid_sign_error": "sigmoid(-1) came out as sigmoid(1)",
    "sigmoid_is_tanh": "this is tanh, not the sigmoid.",
    "sigmoid_identity": "1.52 is z, the value before the activation",
    "relu_abs": "this looks like abs(z).",
    "relu_clipped_at_one": "ReLU has no upper limit: do not clip at 1.",
    "perceptron_greater_equal": "at z = 0 exactly the output is 0: use > 0, not >= 0.",
    "perceptron_no_bias": "did you forget the bias b?",
    "perceptron_returns_z": "-1 is z; the perceptron outputs 1 if z > 0, else 0.",
    "neuron_no_bias": "did you forget the bias b?",
    "neuron_no_activation": "1.52 is z, the value before the activation: return sigmoid(z).",
    "neuron_relu": "1.52 is z, the value before the activation: return sigmoid(z).",
    "matrix_product_slide_typo": "11 is the slide's typo",
    "matrix_product_transposed": "AB has one row per row of A and one column per column of B.",
    "no_hidden_forgot_bias": "did you forget the bias b?",
    "no_hidden_no_sigmoid": "these are the z values: apply the sigmoid.",
    "hidden_activation_only_at_end": "the hidden layer needs its own sigmoid, not only the output.",
    "hidden_no_output_sigmoid": "the output needs a sigmoid too",
    "hidden_forgot_b1": "did you forget the hidden bias b1?",
    "forward_activation_only_at_end": "apply the sigmoid after every layer, not only after the last.",
    "shapes_transposed": "rows = inputs of the layer, columns = its units",
}
CASES = with_hints(CASES, HINTS)
