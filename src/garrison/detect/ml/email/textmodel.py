"""The e-mail model behind ``TEXT_MODELS``: input lines are JSON objects (``raw``, or
``subject`` and ``body``); every scored line is explained."""

from __future__ import annotations

from garrison.core.errors import InputError
from garrison.detect.ml import text


class EmailText(text.ScoredTextModel):
    """E-mail messages, one JSON object per line; every scored line is explained."""

    name = "email"
    #: Messages scored together (features are computed per batch).
    batch = 256

    def parts(self) -> text.Parts:
        from garrison.detect.ml.email.model import TRUSTED_TYPES, load_model
        from garrison.detect.ml.email.scoring import score_lines

        return text.Parts(load_model, score_lines, TRUSTED_TYPES, explains_all=False)

    def train(
        self, request: text.TrainRequest, progress: text.Progress | None = None
    ) -> text.Trained:
        """Train on a corpus folder; threshold fixed on out-of-fold benign scores."""
        from garrison.detect.ml.email.build import train_and_save
        from garrison.detect.ml.email.train import TrainParams

        request.refuse_unused(self.name)
        params = request.seeded(TrainParams())
        try:
            path, card = train_and_save(request.data, request.out, params, progress)
        except (FileNotFoundError, KeyError, ValueError) as exc:
            raise InputError(f"--data {request.data}: {exc}") from exc
        oof = card["metrics"]["out_of_fold_training"]
        return text.Trained(
            path,
            card,
            [
                f"model {card['version']}: threshold {card['threshold']:.4f} (FPR "
                f"{params.target_fpr:.0%} on out-of-fold benign training scores); "
                f"out-of-fold AUC {oof['auc']}, F1 {oof['f1']}, hard-ham FPR "
                f"{oof.get('hard_ham_fpr')}; {card['size_bytes']:,} bytes -> {path}"
            ],
        )


text.TEXT_MODELS.register("email")(EmailText())
