"""Wrong and alternative right answers for week 3, the MNIST hands-on."""
from autograder.wrong_answers import right, with_hints, wrong

PREPROCESS = "preprocess_tests"
ONE_HOT = "one_hot_tests"
BUILD = "build_mnist_model_tests"
EVALUATE = "evaluate_tests"
ACCURACY = "accuracy_tests"
CONFUSION = "confusion_matrix_tests"
PAIR = "most_confused_pair_tests"

CASES = [
    # --- preprocess_images --------------------------------------------------------------
    wrong("no_scaling", "preprocess_images", """
        def preprocess_images(x):
            x = np.asarray(x)
            return x.reshape(len(x), 784).astype(np.float32)
        """, (PREPROCESS, ACCURACY), "the network sees 0-255 in training and 0-1 in the graded check"),
    wrong("integer_division_by_255", "preprocess_images", """
        def preprocess_images(x):
            x = np.asarray(x)
            return (x.reshape(len(x), 784) // 255).astype(np.float32)
        """, PREPROCESS),
    wrong("float64_instead_of_float32", "preprocess_images", """
        def preprocess_images(x):
            x = np.asarray(x)
            return x.reshape(len(x), 784) / 255
        """, PREPROCESS),
    wrong("not_flattened", "preprocess_images", """
        def preprocess_images(x):
            return (np.asarray(x) / 255).astype(np.float32)
        """, PREPROCESS),
    wrong("only_28x28_inputs", "preprocess_images", """
        def preprocess_images(x):
            n, h, w = x.shape
            return x.reshape(n, h * w).astype(np.float32) / 255
        """, PREPROCESS, "flat (n, 784) inputs must work too"),
    wrong("scales_in_place", "preprocess_images", """
        def preprocess_images(x):
            flat = x.reshape(len(x), -1)
            flat //= 2
            return flat.astype(np.float32) / 127.5
        """, PREPROCESS, "changes the caller's array"),
    right("preprocess_with_keras_ops", "preprocess_images", """
        def preprocess_images(x):
            images = np.array(x, dtype="float32", copy=True)
            images = images.reshape(images.shape[0], 28 * 28)
            images /= 255.0
            return images
        """),
    # --- one_hot -----------------------------------------------------------------------
    wrong("one_hot_off_by_one", "one_hot", """
        def one_hot(y, num_classes=10):
            y = np.asarray(y)
            out = np.zeros((len(y), num_classes), dtype=np.float32)
            out[np.arange(len(y)), y - 1] = 1.0
            return out
        """, ONE_HOT),
    wrong("one_hot_transposed", "one_hot", """
        def one_hot(y, num_classes=10):
            return np.eye(num_classes, dtype=np.float32)[np.asarray(y)].T
        """, ONE_HOT),
    wrong("one_hot_ignores_num_classes", "one_hot", """
        def one_hot(y, num_classes=10):
            return np.eye(10, dtype=np.float32)[np.asarray(y)]
        """, ONE_HOT),
    right("one_hot_with_eye", "one_hot", """
        def one_hot(y, num_classes=10):
            return np.eye(num_classes, dtype="float32")[np.asarray(y)]
        """),
    right("one_hot_with_keras", "one_hot", """
        def one_hot(y, num_classes=10):
            return keras.utils.to_categorical(y, num_classes)
        """),
    # --- build_mnist_model ---------------------------------------------------------------
    wrong("sigmoid_output", "build_mnist_model", """
        def build_mnist_model(hidden_layers=(100, 50), activation="relu", learning_rate=1e-3):
            model = keras.Sequential([keras.Input(shape=(784,))] + [layers.Dense(u, activation=activation) for u in hidden_layers]
                                     + [layers.Dense(10, activation="sigmoid")])
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy", metrics=["accuracy"])
            return model
        """, BUILD),
    wrong("hidden_layers_ignored", "build_mnist_model", """
        def build_mnist_model(hidden_layers=(100, 50), activation="relu", learning_rate=1e-3):
            model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10, activation="softmax")])
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy", metrics=["accuracy"])
            return model
        """, (BUILD, ACCURACY), "a linear model cannot reach the target accuracy"),
    wrong("activation_ignored", "build_mnist_model", """
        def build_mnist_model(hidden_layers=(100, 50), activation="relu", learning_rate=1e-3):
            model = keras.Sequential([keras.Input(shape=(784,))] + [layers.Dense(u, activation="relu") for u in hidden_layers]
                                     + [layers.Dense(10, activation="softmax")])
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy", metrics=["accuracy"])
            return model
        """, BUILD),
    wrong("learning_rate_ignored", "build_mnist_model", """
        def build_mnist_model(hidden_layers=(100, 50), activation="relu", learning_rate=1e-3):
            model = keras.Sequential([keras.Input(shape=(784,))] + [layers.Dense(u, activation=activation) for u in hidden_layers]
                                     + [layers.Dense(10, activation="softmax")])
            model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
            return model
        """, BUILD),
    wrong("sparse_loss_with_one_hot_labels", "build_mnist_model", """
        def build_mnist_model(hidden_layers=(100, 50), activation="relu", learning_rate=1e-3):
            model = keras.Sequential([keras.Input(shape=(784,))] + [layers.Dense(u, activation=activation) for u in hidden_layers]
                                     + [layers.Dense(10, activation="softmax")])
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            return model
        """, (BUILD, ACCURACY), "training itself fails with one-hot labels"),
    wrong("plain_sgd_at_the_learning_rate", "build_mnist_model", """
        def build_mnist_model(hidden_layers=(100, 50), activation="relu", learning_rate=1e-3):
            model = keras.Sequential([keras.Input(shape=(784,))] + [layers.Dense(u, activation=activation) for u in hidden_layers]
                                     + [layers.Dense(10, activation="softmax")])
            model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="categorical_crossentropy", metrics=["accuracy"])
            return model
        """, (BUILD, ACCURACY), "SGD at 0.002 learns far too slowly for the target"),
    wrong("linear_output_layer", "build_mnist_model", """
        def build_mnist_model(hidden_layers=(100, 50), activation="relu", learning_rate=1e-3):
            model = keras.Sequential([keras.Input(shape=(784,))] + [layers.Dense(u, activation=activation) for u in hidden_layers]
                                     + [layers.Dense(10)])
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy", metrics=["accuracy"])
            return model
        """, BUILD),
    right("build_functional", "build_mnist_model", """
        def build_mnist_model(hidden_layers=(100, 50), activation="relu", learning_rate=1e-3):
            inputs = keras.Input(shape=(784,))
            x = inputs
            for units in hidden_layers:
                x = layers.Dense(units)(x)
                x = layers.Activation(activation)(x)
            outputs = layers.Dense(10)(x)
            outputs = layers.Softmax()(outputs)
            model = keras.Model(inputs, outputs)
            model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                          loss=keras.losses.CategoricalCrossentropy(), metrics=[keras.metrics.CategoricalAccuracy()])
            return model
        """),
    # --- test accuracy ---------------------------------------------------------------------
    wrong("accuracy_on_training_data", "evaluate", """
        test_loss, test_accuracy = model.evaluate(x_train, y_train_1h, verbose=0)
        print(f"test accuracy of the chosen model: {test_accuracy:.4f}")
        """, EVALUATE),
    wrong("accuracy_on_validation_data", "evaluate", """
        test_loss, test_accuracy = model.evaluate(x_val, y_val_1h, verbose=0)
        print(f"test accuracy of the chosen model: {test_accuracy:.4f}")
        """, EVALUATE),
    wrong("reports_the_loss", "evaluate", """
        test_accuracy, _ = model.evaluate(x_test, y_test_1h, verbose=0)
        print(f"test accuracy of the chosen model: {test_accuracy:.4f}")
        """, EVALUATE),
    right("accuracy_from_predict", "evaluate", """
        test_accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
        print(f"test accuracy of the chosen model: {test_accuracy:.4f}")
        """),
    # --- confusion_matrix ----------------------------------------------------------------
    wrong("confusion_transposed", "confusion_matrix", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            cm = np.zeros((num_classes, num_classes), dtype=int)
            for t, p in zip(y_true, y_pred):
                cm[p, t] += 1
            return cm
        """, CONFUSION),
    wrong("confusion_row_shares", "confusion_matrix", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            cm = np.zeros((num_classes, num_classes))
            for t, p in zip(y_true, y_pred):
                cm[t, p] += 1
            return cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        """, CONFUSION),
    wrong("confusion_size_from_data", "confusion_matrix", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            k = int(max(np.max(y_true), np.max(y_pred))) + 1
            cm = np.zeros((k, k), dtype=int)
            for t, p in zip(y_true, y_pred):
                cm[t, p] += 1
            return cm
        """, CONFUSION, "a class that never occurs still needs its row and column"),
    wrong("confusion_fancy_index_assignment", "confusion_matrix", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            cm = np.zeros((num_classes, num_classes), dtype=int)
            cm[np.asarray(y_true), np.asarray(y_pred)] += 1
            return cm
        """, CONFUSION, "repeated index pairs are counted once"),
    right("confusion_with_bincount", "confusion_matrix", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            flat = np.asarray(y_true) * num_classes + np.asarray(y_pred)
            return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
        """),
    right("confusion_with_loops", "confusion_matrix", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            cm = [[0] * num_classes for _ in range(num_classes)]
            for t, p in zip(y_true, y_pred):
                cm[int(t)][int(p)] += 1
            return np.array(cm)
        """),
    # --- most_confused_pair --------------------------------------------------------------
    wrong("pair_includes_diagonal", "most_confused_pair", """
        def most_confused_pair(cm):
            cm = np.asarray(cm)
            i, j = np.unravel_index(np.argmax(cm), cm.shape)
            return int(i), int(j)
        """, PAIR),
    wrong("pair_swapped", "most_confused_pair", """
        def most_confused_pair(cm):
            m = np.array(cm, dtype=float)
            np.fill_diagonal(m, -1)
            i, j = np.unravel_index(np.argmax(m), m.shape)
            return int(j), int(i)
        """, PAIR),
    wrong("pair_flat_index", "most_confused_pair", """
        def most_confused_pair(cm):
            m = np.array(cm, dtype=float)
            np.fill_diagonal(m, -1)
            return int(np.argmax(m))
        """, PAIR),
    right("pair_with_loops", "most_confused_pair", """
        def most_confused_pair(cm):
            best, pair = -1, None
            for i, row in enumerate(cm):
                for j, count in enumerate(row):
                    if i != j and count > best:
                        best, pair = count, (i, j)
            return pair
        """),
    wrong("divides_by_256", "preprocess_images", """
        def preprocess_images(x):
            x = np.asarray(x)
            return (x.reshape(len(x), 784) / 256).astype(np.float32)
        """, PREPROCESS),
    wrong("pair_zeroed_diagonal", "most_confused_pair", """
        def most_confused_pair(cm):
            off = np.array(cm, dtype=float)
            np.fill_diagonal(off, 0)
            return np.unravel_index(np.argmax(off), off.shape)
        """, PAIR, "with no mistake at all, argmax lands on the diagonal (0, 0)"),
]

# What the feedback must say for each mistake (checked by the catalogue: the hint fires).
HINTS = {
    "pair_zeroed_diagonal": "a diagonal entry: those are correct predictions, not mistakes.",
    "only_28x28_inputs": "already flat images (n, 784) must work too",
    "one_hot_ignores_num_classes": "use the num_classes argument instead of 10.",
    "divides_by_256": "divide by 255 (the largest pixel value), not 256.",
    "no_scaling": "the pixels are not scaled: divide by 255.",
    "integer_division_by_255": "integer division (//) leaves only 0 and 1",
    "float64_instead_of_float32": "convert with .astype(np.float32).",
    "not_flattened": "flatten each image into 784 values",
    "one_hot_off_by_one": "off by one: label 3 goes to column 3",
    "one_hot_transposed": "rows are examples, columns are classes",
    "sigmoid_output": "check the activation of each layer.",
    "hidden_layers_ignored": "a layer is missing; count the hidden layers.",
    "activation_ignored": "check the activation of each layer.",
    "linear_output_layer": "check the activation of each layer.",
    "learning_rate_ignored": "pass the function's learning_rate argument to the optimizer.",
    "sparse_loss_with_one_hot_labels": "the labels are one-hot vectors here: 'sparse_categorical_crossentropy' expects",
    "accuracy_on_training_data": "that is the accuracy on the training set",
    "accuracy_on_validation_data": "that is the accuracy on the validation set",
    "reports_the_loss": "model.evaluate returns [loss, accuracy]: take the second value.",
    "confusion_transposed": "the matrix is transposed: rows must be the TRUE class",
    "confusion_row_shares": "give the counts, not the share of each row.",
    "confusion_size_from_data": "the shape is (num_classes, num_classes) even when some classes never occur.",
    "pair_includes_diagonal": "skip the diagonal: those are the correct predictions.",
    "pair_swapped": "you have them swapped.",
    "pair_flat_index": "not a flat index.",
}
CASES = with_hints(CASES, HINTS)
