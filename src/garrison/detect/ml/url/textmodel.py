"""The phishing-URL model behind ``TEXT_MODELS`` (its parts and its training)."""

from __future__ import annotations

from garrison.core.errors import InputError
from garrison.detect.ml import text


class UrlText(text.ScoredTextModel):
    """URLs, one per line; distinct normalized URLs in a batch are scored once."""

    name = "url"
    batch = 16_384

    def parts(self) -> text.Parts:
        from garrison.detect.ml.url.model import TRUSTED_TYPES, load_model
        from garrison.detect.ml.url.scoring import score_lines

        return text.Parts(load_model, score_lines, TRUSTED_TYPES)

    def train(
        self, request: text.TrainRequest, progress: text.Progress | None = None
    ) -> text.Trained:
        """Train on a labelled folder; threshold fixed on held-out calibration sites."""
        from garrison.detect.ml.url.build import train_and_save
        from garrison.detect.ml.url.train import TrainParams

        request.refuse_unused(self.name)
        params = request.seeded(TrainParams())
        try:
            path, card = train_and_save(request.data, request.out, params, progress=progress)
        except (FileNotFoundError, ValueError) as exc:
            raise InputError(str(exc)) from exc
        calib = card["metrics"]["calibration_sites"]
        return text.Trained(
            path,
            card,
            [
                f"model {card['version']}: threshold {card['threshold']:.4f} (FPR "
                f"{params.target_fpr:.0%} on held-out calibration sites), calibration AUC "
                f"{calib['auc']}, recall {calib['recall']}, {card['size_bytes']:,} bytes -> "
                f"{path}"
            ],
        )


text.TEXT_MODELS.register("url")(UrlText())
