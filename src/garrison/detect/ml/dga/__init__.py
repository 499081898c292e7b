"""DGA domain detection: features, model, training, evaluation, batch scoring, detector."""
