"""Wrong and alternative right answers for week 1b, the banknote fcNN in Keras."""
from autograder.wrong_answers import right, with_hints, wrong

STANDARDISE = "standardise_tests"
BOUNDARY = "decision_boundary_tests"
LOGISTIC = "build_logistic_model_tests"
FCNN = "build_fcnn_tests"
EVALUATE = "evaluate_tests"
FUNCTIONAL = "build_functional_model_tests"
NET = "banknote_net_tests"

# BanknoteNet as the solution writes it, with one layer changed per mistake
_BANKNOTE_NET = """
class BanknoteNet(keras.Model):
    def __init__(self, hidden_units=8):
        super().__init__()
        self.hidden = {hidden}
        self.out = {out}

    def call(self, x):
        return self.out(self.hidden(x))
"""


def _banknote_net(hidden: str = 'layers.Dense(hidden_units, activation="sigmoid")',
                  out: str = 'layers.Dense(1, activation="sigmoid")') -> str:
    return _BANKNOTE_NET.format(hidden=hidden, out=out)


CASES = [
    # --- standardise ----------------------------------------------------------------
    wrong("features_not_standardised", "standardise", """
        X_train_s, X_val_s, X_test_s = X_train, X_val, X_test
        """, STANDARDISE),
    wrong("each_set_its_own_statistics", "standardise", """
        scale = lambda A: (A - A.mean(axis=0)) / A.std(axis=0)
        X_train_s, X_val_s, X_test_s = scale(X_train), scale(X_val), scale(X_test)
        """, STANDARDISE, "leaks the statistics of validation and test"),
    wrong("standardise_without_centering", "standardise", """
        std = X_train.std(axis=0)
        X_train_s, X_val_s, X_test_s = X_train / std, X_val / std, X_test / std
        """, STANDARDISE),
    right("standardise_with_a_function", "standardise", """
        def standardise(A, reference):
            return (A - np.mean(reference, axis=0)) / np.std(reference, axis=0)
        X_train_s = standardise(X_train, X_train)
        X_val_s = standardise(X_val, X_train)
        X_test_s = standardise(X_test, X_train)
        """),
    # --- decision boundary -----------------------------------------------------------
    wrong("boundary_signs_flipped", "decision_boundary", """
        def decision_boundary_x2(x1, b0, b1, b2):
            return b0 / b2 + b1 / b2 * x1
        """, BOUNDARY),
    wrong("boundary_divides_by_b1", "decision_boundary", """
        def decision_boundary_x2(x1, b0, b1, b2):
            return -b0 / b1 - b2 / b1 * x1
        """, BOUNDARY),
    wrong("boundary_forgets_intercept", "decision_boundary", """
        def decision_boundary_x2(x1, b0, b1, b2):
            return -b1 / b2 * x1
        """, BOUNDARY),
    right("boundary_one_fraction", "decision_boundary", """
        def decision_boundary_x2(x1, b0, b1, b2):
            return -(b0 + b1 * np.asarray(x1)) / b2
        """),
    # --- build_logistic_model ----------------------------------------------------------
    wrong("logistic_softmax_one_unit", "build_logistic_model", """
        def build_logistic_model(learning_rate):
            model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation="softmax")])
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                          loss="binary_crossentropy", metrics=["accuracy"])
            return model
        """, (LOGISTIC, EVALUATE), "softmax over one unit is always 1"),
    wrong("logistic_mse_loss", "build_logistic_model", """
        def build_logistic_model(learning_rate):
            model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                          loss="mse", metrics=["accuracy"])
            return model
        """, LOGISTIC),
    wrong("logistic_ignores_learning_rate", "build_logistic_model", """
        def build_logistic_model(learning_rate):
            model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
            model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
            return model
        """, LOGISTIC),
    right("logistic_functional_with_objects", "build_logistic_model", """
        def build_logistic_model(learning_rate):
            inputs = keras.Input(shape=(2,))
            outputs = layers.Dense(1, activation=keras.activations.sigmoid)(inputs)
            model = keras.Model(inputs, outputs)
            model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=keras.losses.BinaryCrossentropy(),
                          metrics=[keras.metrics.BinaryAccuracy()])
            return model
        """),
    # --- build_fcnn --------------------------------------------------------------------
    wrong("fcnn_missing_hidden_layer", "build_fcnn", """
        def build_fcnn(hidden_units=8, learning_rate=1.0):
            model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                          loss="binary_crossentropy", metrics=["accuracy"])
            return model
        """, (FCNN, EVALUATE), "a linear model cannot reach 0.85"),
    wrong("fcnn_relu_hidden", "build_fcnn", """
        def build_fcnn(hidden_units=8, learning_rate=1.0):
            model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(hidden_units, activation="relu"),
                                      layers.Dense(1, activation="sigmoid")])
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                          loss="binary_crossentropy", metrics=["accuracy"])
            return model
        """, FCNN, "the exercise asks for a sigmoid hidden layer"),
    wrong("fcnn_categorical_crossentropy", "build_fcnn", """
        def build_fcnn(hidden_units=8, learning_rate=1.0):
            model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(hidden_units, activation="sigmoid"),
                                      layers.Dense(1, activation="sigmoid")])
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                          loss="categorical_crossentropy", metrics=["accuracy"])
            return model
        """, FCNN),
    right("fcnn_add_calls_and_activation_layers", "build_fcnn", """
        def build_fcnn(hidden_units=8, learning_rate=1.0):
            model = keras.Sequential()
            model.add(keras.Input(shape=(2,)))
            model.add(layers.Dense(hidden_units))
            model.add(layers.Activation("sigmoid"))
            model.add(layers.Dense(1, activation="sigmoid"))
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                          loss="binary_crossentropy", metrics=["acc"])
            return model
        """),
    right("fcnn_functional", "build_fcnn", """
        def build_fcnn(hidden_units=8, learning_rate=1.0):
            inputs = keras.Input(shape=(2,))
            hidden = layers.Dense(hidden_units, activation="sigmoid")(inputs)
            outputs = layers.Dense(1, activation="sigmoid")(hidden)
            model = keras.Model(inputs=inputs, outputs=outputs)
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="binary_crossentropy",
                          metrics=["accuracy"])
            return model
        """),
    right("fcnn_subclassed", "build_fcnn", """
        class FCNN(keras.Model):
            def __init__(self, hidden_units):
                super().__init__()
                self.hidden = layers.Dense(hidden_units, activation="sigmoid")
                self.out = layers.Dense(1, activation="sigmoid")

            def call(self, x):
                return self.out(self.hidden(x))

        def build_fcnn(hidden_units=8, learning_rate=1.0):
            model = FCNN(hidden_units)
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                          loss="binary_crossentropy", metrics=["accuracy"])
            return model
        """),
    # --- evaluate ----------------------------------------------------------------------
    wrong("evaluated_on_training_data", "evaluate", """
        test_acc_logistic = model_log.evaluate(X_train_s, y_train, verbose=0)[1]
        test_acc_fcnn = model_fcnn.evaluate(X_train_s, y_train, verbose=0)[1]
        """, EVALUATE),
    wrong("evaluated_on_validation_data", "evaluate", """
        test_acc_logistic = model_log.evaluate(X_val_s, y_val, verbose=0)[1]
        test_acc_fcnn = model_fcnn.evaluate(X_val_s, y_val, verbose=0)[1]
        """, EVALUATE),
    wrong("reports_the_loss", "evaluate", """
        test_acc_logistic = model_log.evaluate(X_test_s, y_test, verbose=0)[0]
        test_acc_fcnn = model_fcnn.evaluate(X_test_s, y_test, verbose=0)[0]
        """, EVALUATE),
    right("accuracy_from_predict", "evaluate", """
        def accuracy(model):
            p = model.predict(X_test_s, verbose=0)[:, 0]
            return np.mean((p > 0.5).astype(int) == y_test)
        test_acc_logistic = accuracy(model_log)
        test_acc_fcnn = accuracy(model_fcnn)
        """),
    # --- functional model --------------------------------------------------------------
    wrong("functional_slide_bug", "build_functional_model", """
        def build_functional_model():
            inputs = keras.Input(shape=(10,))
            x = layers.Dense(20, activation="relu")(x)
            x = layers.Dense(20, activation="relu")(x)
            outputs = layers.Dense(10, activation="softmax")(x)
            return keras.Model(inputs, outputs)
        """, FUNCTIONAL, "the slide's error: x is used before it exists"),
    wrong("functional_no_softmax", "build_functional_model", """
        def build_functional_model():
            inputs = keras.Input(shape=(10,))
            x = layers.Dense(20, activation="relu")(inputs)
            x = layers.Dense(20, activation="relu")(x)
            outputs = layers.Dense(10)(x)
            return keras.Model(inputs, outputs)
        """, FUNCTIONAL),
    wrong("functional_skips_a_layer", "build_functional_model", """
        def build_functional_model():
            inputs = keras.Input(shape=(10,))
            x = layers.Dense(20, activation="relu")(inputs)
            outputs = layers.Dense(10, activation="softmax")(x)
            return keras.Model(inputs, outputs)
        """, FUNCTIONAL),
    right("functional_as_sequential", "build_functional_model", """
        def build_functional_model():
            return keras.Sequential([keras.Input(shape=(10,)), layers.Dense(20, activation="relu"),
                                     layers.Dense(20, activation="relu"), layers.Dense(10, activation="softmax")])
        """),
    right("functional_with_softmax_layer", "build_functional_model", """
        def build_functional_model():
            inputs = keras.Input(shape=(10,))
            h = layers.Dense(20, activation="relu")(inputs)
            h = layers.Dense(20, activation="relu")(h)
            logits = layers.Dense(10)(h)
            return keras.Model(inputs, layers.Softmax()(logits))
        """),
    # --- BanknoteNet (subclassing) ----------------------------------------------------------
    wrong("net_relu_hidden_layer", "banknote_net", _banknote_net(hidden='layers.Dense(hidden_units, activation="relu")'), NET),
    wrong("net_layers_made_in_call", "banknote_net", """
        class BanknoteNet(keras.Model):
            def __init__(self, hidden_units=8):
                super().__init__()
                self.hidden_units = hidden_units

            def call(self, x):
                hidden = layers.Dense(self.hidden_units, activation="sigmoid")
                return layers.Dense(1, activation="sigmoid")(hidden(x))
        """, NET, "new random weights at every call"),
    wrong("net_ignores_hidden_units", "banknote_net", _banknote_net(hidden='layers.Dense(8, activation="sigmoid")'), NET),
    wrong("net_output_without_sigmoid", "banknote_net", _banknote_net(out="layers.Dense(1)"), NET),
    right("net_layers_in_a_list", "banknote_net", """
        class BanknoteNet(keras.Model):
            def __init__(self, hidden_units=8):
                super().__init__()
                self.stack = [layers.Dense(hidden_units, activation="sigmoid"), layers.Dense(1, activation="sigmoid")]

            def call(self, inputs):
                for layer in self.stack:
                    inputs = layer(inputs)
                return inputs
        """),
]

# What the feedback must say for each mistake (checked by the catalogue: the hint fires).
HINTS = {
    "features_not_standardised": "X_train_s is X_train unchanged: subtract the mean and divide by the standard deviation.",
    "each_set_its_own_statistics": "must be scaled with the training mean and standard deviation, not its own.",
    "standardise_without_centering": "you divided by the standard deviation but did not subtract the mean.",
    "boundary_signs_flipped": "the signs are flipped",
    "boundary_forgets_intercept": "one of the two terms is missing.",
    "logistic_softmax_one_unit": "softmax over a single unit is always 1.0; for one output use the sigmoid.",
    "logistic_mse_loss": "a binary (0/1) target with one sigmoid output uses 'binary_crossentropy'.",
    "logistic_ignores_learning_rate": "pass the function's learning_rate argument to the optimizer.",
    "fcnn_missing_hidden_layer": "a layer is missing; count the hidden layers.",
    "fcnn_relu_hidden": "check the activation of each layer.",
    "fcnn_categorical_crossentropy": "a binary (0/1) target with one sigmoid output uses 'binary_crossentropy'.",
    "evaluated_on_training_data": "measure on X_test_s and y_test, not on the training or validation data.",
    "evaluated_on_validation_data": "measure on X_test_s and y_test, not on the training or validation data.",
    "reports_the_loss": "this is not an accuracy: evaluate returns [loss, accuracy].",
    "functional_no_softmax": "check the activation of each layer.",
    "functional_skips_a_layer": "a layer is missing; count the hidden layers.",
    "net_relu_hidden_layer": "check the activation of each layer.",
    "net_layers_made_in_call": "make the layers in __init__, not in call",
    "net_output_without_sigmoid": "check the activation of each layer.",
}
CASES = with_hints(CASES, HINTS)
